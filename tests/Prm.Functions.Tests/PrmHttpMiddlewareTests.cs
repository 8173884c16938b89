using System.Collections.Immutable;
using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Converters;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prm.Functions.Http;
using Prm.Testing;
using Prm.Workflows;

namespace Prm.Functions.Tests;

/// <summary>
/// The Functions worker middleware run directly, as the Functions host runs it in Azure: a function context built here (its definition,
/// its HTTP context, the worker's binding cache holding the invocation's Durable client the way the worker's binding leaves it), through
/// the real request gate of a running app.
/// </summary>
public sealed class PrmHttpMiddlewareTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private static readonly Type CacheType = typeof(FunctionContext).Assembly.GetType("Microsoft.Azure.Functions.Worker.IBindingCache`1", throwOnError: true)!
        .MakeGenericType(typeof(ConversionResult));
    private static readonly Type CacheImplementation = typeof(FunctionContext).Assembly.GetType("Microsoft.Azure.Functions.Worker.DefaultBindingCache`1", throwOnError: true)!
        .MakeGenericType(typeof(ConversionResult));

    private (FunctionContext Context, DefaultHttpContext Http) Invocation(string functionName, DurableTaskClient? boundClient, bool declaresClient = true)
    {
        var function = FunctionCatalog.HttpFunctions.Single(f => f.Name == functionName);
        var services = new ServiceCollection();
        services.AddScoped(CacheType, CacheImplementation);
        var provider = services.BuildServiceProvider().CreateScope().ServiceProvider;
        if (boundClient is not null)
        {
            // What the worker's binding of [DurableClient] leaves in the invocation's binding cache.
            var cache = provider.GetRequiredService(CacheType);
            CacheType.GetMethod("TryAdd")!.Invoke(cache, ["durable", ConversionResult.Success(boundClient)]);
        }
        var http = new DefaultHttpContext { RequestServices = fixture.Api.Services.CreateScope().ServiceProvider };
        http.Request.Method = function.Methods[0];
        http.Request.Path = "/api/" + function.Route;
        var bindings = new Dictionary<string, BindingMetadata> { ["req"] = new Binding("req", "httpTrigger") };
        if (declaresClient) bindings["durable"] = new Binding("durable", "durableClient");
        var context = new Context(new Definition(function.Name, function.EntryPoint, bindings.ToImmutableDictionary()), provider);
        context.Items["HttpRequestContext"] = http;
        return (context, http);
    }

    private PrmHttpMiddleware Middleware(DurableClientAccessor accessor, ILogger<PrmHttpMiddleware>? log = null) =>
        new(fixture.Api.Services.GetRequiredService<RequestGate>(), accessor, log ?? fixture.Api.Services.GetRequiredService<ILogger<PrmHttpMiddleware>>());

    [Fact]
    public async Task The_invocation_client_of_a_function_that_declares_it_is_lent_for_the_call_through_the_gate_and_only_for_it()
    {
        var client = fixture.Api.Services.GetRequiredService<DurableTaskClient>();
        var accessor = new DurableClientAccessor();
        var (context, http) = Invocation("Health", client);
        DurableTaskClient? seen = null;
        await Middleware(accessor).Invoke(context, _ =>
        {
            seen = accessor.Client;
            return Task.CompletedTask;
        });
        seen.Should().BeSameAs(client, "the function's own [DurableClient] value is lent to the outbox during the call");
        accessor.Client.Should().BeNull("the loan ends with the call");
        http.Response.Headers[RequestGate.CorrelationHeader].ToString().Should().NotBeEmpty("the request passed the gate");

        var (without, _) = Invocation("Health", client, declaresClient: false);
        DurableTaskClient? none = client;
        await Middleware(accessor).Invoke(without, _ =>
        {
            none = accessor.Client;
            return Task.CompletedTask;
        });
        none.Should().BeNull("a function without the binding lends nothing");
    }

    [Fact]
    public async Task A_client_that_cannot_be_bound_is_logged_and_the_request_still_runs_and_the_gate_refuses_what_its_policy_refuses()
    {
        var accessor = new DurableClientAccessor();
        var logs = new List<(LogLevel Level, string Message)>();
        // No cached value and no binding data: the worker's BindInputAsync throws, as it would for a binding the host did not provide.
        var (context, _) = Invocation("Health", boundClient: null);
        var ran = false;
        await Middleware(accessor, new ListLogger(logs)).Invoke(context, _ =>
        {
            ran = true;
            accessor.Client.Should().BeNull();
            return Task.CompletedTask;
        });
        ran.Should().BeTrue("its workflow signals take the outbox queue instead");
        logs.Should().ContainSingle(l => l.Level == LogLevel.Warning && l.Message.Contains("could not be bound", StringComparison.Ordinal));

        // A signed-in route without a token: the gate answers 401 and the function never runs.
        var (closed, http) = Invocation("ListPartners", fixture.Api.Services.GetRequiredService<DurableTaskClient>());
        var reached = false;
        await Middleware(accessor).Invoke(closed, _ =>
        {
            reached = true;
            return Task.CompletedTask;
        });
        reached.Should().BeFalse();
        http.Response.StatusCode.Should().Be(401);
        http.Response.ContentType.Should().Be(Problems.ContentType);
    }

    [Fact]
    public async Task A_non_http_invocation_passes_straight_through()
    {
        var accessor = new DurableClientAccessor();
        var (context, _) = Invocation("Health", fixture.Api.Services.GetRequiredService<DurableTaskClient>());
        context.Items.Remove("HttpRequestContext");
        var ran = false;
        await Middleware(accessor).Invoke(context, _ =>
        {
            ran = true;
            accessor.Client.Should().BeNull("only HTTP invocations are lent a client here");
            return Task.CompletedTask;
        });
        ran.Should().BeTrue();
    }

    private sealed class Binding(string name, string type) : BindingMetadata
    {
        public override string Name { get; } = name;
        public override string Type { get; } = type;
        public override BindingDirection Direction => BindingDirection.In;
    }

    private sealed class Definition(string name, string entryPoint, IImmutableDictionary<string, BindingMetadata> inputs) : FunctionDefinition
    {
        public override ImmutableArray<FunctionParameter> Parameters => [];
        public override string PathToAssembly => typeof(FunctionCatalog).Assembly.Location;
        public override string EntryPoint { get; } = entryPoint;
        public override string Id => Name;
        public override string Name { get; } = name;
        public override IImmutableDictionary<string, BindingMetadata> InputBindings { get; } = inputs;
        public override IImmutableDictionary<string, BindingMetadata> OutputBindings => ImmutableDictionary<string, BindingMetadata>.Empty;
    }

    private sealed class Context(FunctionDefinition definition, IServiceProvider services) : FunctionContext
    {
        public override string InvocationId { get; } = Guid.NewGuid().ToString();
        public override string FunctionId => FunctionDefinition.Id;
        public override TraceContext TraceContext => null!;
        public override BindingContext BindingContext => null!;
        public override RetryContext RetryContext => null!;
        public override IServiceProvider InstanceServices { get; set; } = services;
        public override FunctionDefinition FunctionDefinition { get; } = definition;
        public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();
        public override IInvocationFeatures Features { get; } = new Features();
        public override CancellationToken CancellationToken => CancellationToken.None;
    }

    private sealed class Features : IInvocationFeatures
    {
        private readonly Dictionary<Type, object> items = [];

        public T? Get<T>() => items.TryGetValue(typeof(T), out var value) ? (T)value : default;

        public void Set<T>(T instance) => items[typeof(T)] = instance!;

        public IEnumerator<KeyValuePair<Type, object>> GetEnumerator() => items.GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed class ListLogger(List<(LogLevel Level, string Message)> entries) : ILogger<PrmHttpMiddleware>
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (entries) entries.Add((logLevel, formatter(state, exception)));
        }
    }
}
