using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Prm.Functions.Http;
using Prm.Storage.Outbox;
using Prm.Testing;
using Prm.Workflows;

namespace Prm.DevHost.Tests;

/// <summary>The local host serves every trigger kind of the Functions app, and runs the queue and timer functions itself.</summary>
public sealed class TriggerFunctionTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private static readonly string[] ServedKinds = ["httpTrigger", "queueTrigger", "timerTrigger", "orchestrationTrigger", "activityTrigger"];

    [Fact]
    public void Every_function_has_a_trigger_the_local_host_serves()
    {
        var functions = FunctionCatalog.AllFunctions;
        functions.Should().Contain(f => f.Name == "OutboxDeliver").And.Contain(f => f.Name == "OutboxSweep");
        var unserved = functions.Where(f => f.Attribute is null || !TriggerFunctions.ServedTriggers.Contains(f.Attribute.GetType()))
            .Select(f => $"{f.Name}: {f.Attribute?.GetType().Name ?? "no trigger"}").ToList();
        unserved.Should().BeEmpty("the local host must run every function the Functions host runs (add the trigger kind to TriggerFunctions)");
    }

    [Fact]
    public void Every_trigger_in_functions_metadata_is_a_served_kind()
    {
        using var metadata = JsonDocument.Parse(File.ReadAllText(Repo.FunctionsMetadata));
        var kinds = metadata.RootElement.EnumerateArray()
            .SelectMany(f => f.GetProperty("bindings").EnumerateArray().Select(b => (Function: f.GetProperty("name").GetString(), Type: b.GetProperty("type").GetString()!)))
            .Where(b => b.Type.EndsWith("Trigger", StringComparison.Ordinal))
            .ToList();
        kinds.Should().NotBeEmpty();
        kinds.Where(b => !ServedKinds.Contains(b.Type)).Should().BeEmpty();
        kinds.Select(b => b.Function).Should().OnlyHaveUniqueItems("a function has exactly one trigger");
    }

    [Fact]
    public void Every_queue_and_timer_function_binds_in_the_local_host_and_its_settings_resolve()
    {
        var triggers = fixture.Api.Services.GetRequiredService<TriggerFunctions>();
        triggers.Validate();
        triggers.Resolve("%Outbox:QueueName%").Should().Be(fixture.Api.Services.GetRequiredService<OutboxOptions>().QueueName);
        triggers.Resolve("%Outbox:SweepSchedule%").Should().Be("0 */5 * * * *");
    }

    [Fact]
    public void The_worker_never_recycles_its_stream_to_the_in_process_sidecar_for_silence()
    {
        // The sidecar sends no health pings: a stream recycled after 120 s of silence loses a work item written meanwhile, and the
        // sidecar then waits for it forever (LocalHost.WithoutSilentDisconnect).
        var options = fixture.Api.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<Microsoft.DurableTask.Worker.Grpc.GrpcDurableTaskWorkerOptions>>()
            .Get(Microsoft.Extensions.Options.Options.DefaultName);
        options.Channel.Should().NotBeNull("these are the options of the host's worker");
        var internals = typeof(Microsoft.DurableTask.Worker.Grpc.GrpcDurableTaskWorkerOptions)
            .GetProperty("Internal", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(options)!;
        var timeout = (TimeSpan)internals.GetType().GetProperty("SilentDisconnectTimeout")!.GetValue(internals)!;
        timeout.Should().BeLessThanOrEqualTo(TimeSpan.Zero, "a non-positive timeout turns the silent-disconnect check off");
    }

    [Fact]
    public void The_host_lends_no_durable_client_outside_an_invocation()
    {
        fixture.Api.Services.GetRequiredService<DurableClientAccessor>().Available.Should().BeFalse();
    }

    [Fact]
    public async Task A_queue_message_naming_delivered_messages_is_consumed()
    {
        var queues = fixture.Api.Services.GetRequiredService<PrmQueues>();
        var queue = queues.Outbox;
        await queue.CreateIfNotExistsAsync();
        await queue.SendMessageAsync(OutboxQueue.Serialize(new OutboxQueueMessage(fixture.Api.Services.GetRequiredService<Prm.Storage.PrmTables>().Partners.Name, "nopartition", ["gone"])));
        var deadline = DateTime.UtcNow.AddSeconds(120); // the queue trigger backs off while idle; a loaded machine is slower still
        while (DateTime.UtcNow < deadline)
        {
            var properties = (await queue.GetPropertiesAsync()).Value;
            var peeked = (await queue.PeekMessagesAsync(32)).Value;
            if (properties.ApproximateMessagesCount == 0 && peeked.Length == 0) return;
            await Task.Delay(200);
        }
        throw new TimeoutException("The local host did not take the message from the outbox queue.");
    }
}

/// <summary>A message the queue function cannot take lands in the poison queue after maxDequeueCount attempts, as with the Functions host.</summary>
public sealed class PoisonQueueTests
{
    [Fact]
    public async Task A_message_that_keeps_failing_moves_to_the_poison_queue()
    {
        var storage = await TestAzurite.FreshStorageAsync();
        await using var host = await LocalHost.StartAsync([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["LocalHost:Url"] = "http://127.0.0.1:0",
                ["Storage:ConnectionString"] = storage.ConnectionString,
                ["Storage:TablePrefix"] = storage.TablePrefix,
                ["LocalHost:TaskHub"] = "hub" + storage.TablePrefix,
                ["LocalHost:Seed"] = "false",
                ["Logging:LogLevel:Default"] = "Error",
            });
            builder.Services.AddSingleton(new QueueTriggerSettings(TimeSpan.FromMilliseconds(200), TimeSpan.Zero, 16, 2));
        }, log: _ => { });
        var queues = host.Services.GetRequiredService<PrmQueues>();
        queues.Outbox.Name.Should().Be(storage.TablePrefix.ToLowerInvariant() + "-outbox");
        await queues.Outbox.CreateIfNotExistsAsync();
        await queues.Outbox.SendMessageAsync("this is not an outbox queue message");
        var poison = queues.Service.GetQueueClient(queues.Outbox.Name + "-poison");
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if ((await poison.ExistsAsync()).Value && (await poison.PeekMessagesAsync(1)).Value is [var moved])
            {
                moved.Body.ToString().Should().Be("this is not an outbox queue message");
                (await queues.Outbox.PeekMessagesAsync(1)).Value.Should().BeEmpty();
                return;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException("The message did not reach the poison queue.");
    }
}
