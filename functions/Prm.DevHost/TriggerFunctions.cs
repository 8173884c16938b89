using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using NCrontab;
using Prm.Functions.Http;
using Prm.Storage;
using Prm.Storage.Outbox;

namespace Prm.DevHost;

/// <summary>Queue trigger settings of host.json (<c>extensions.queues</c>), with the Functions host's defaults.</summary>
public sealed record QueueTriggerSettings(TimeSpan MaxPollingInterval, TimeSpan VisibilityTimeout, int BatchSize, int MaxDequeueCount)
{
    public static QueueTriggerSettings Default { get; } = new(TimeSpan.FromMinutes(1), TimeSpan.Zero, 16, 5);

    /// <summary>Reads host.json next to the solution (or in the output directory); the defaults when there is none.</summary>
    public static QueueTriggerSettings FromHostJson(string? path = null)
    {
        path ??= new[] { Path.Combine(AppContext.BaseDirectory, "host.json"), Path.Combine(Azurite.RepositoryRoot(), "host.json") }.FirstOrDefault(File.Exists);
        if (path is null || !File.Exists(path)) return Default;
        using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        if (!doc.RootElement.TryGetProperty("extensions", out var extensions) || !extensions.TryGetProperty("queues", out var queues)) return Default;
        TimeSpan Time(string name, TimeSpan fallback) => queues.TryGetProperty(name, out var v) ? TimeSpan.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : fallback;
        int Int(string name, int fallback) => queues.TryGetProperty(name, out var v) ? v.GetInt32() : fallback;
        return new(Time("maxPollingInterval", Default.MaxPollingInterval), Time("visibilityTimeout", Default.VisibilityTimeout), Int("batchSize", Default.BatchSize),
            Int("maxDequeueCount", Default.MaxDequeueCount));
    }
}

/// <summary>
/// Runs the queue- and timer-triggered functions of the Functions assembly in the local host — the same classes, discovered by reflection
/// like the HTTP functions — with binding values built the way the Functions host builds them: the queue message body as a string or a
/// JSON POCO, the host's own Durable client for [DurableClient], <see cref="TimerInfo"/> for timers, the stopping token. Queues are read
/// from Azurite's Queue service (the connection of the app's storage): polled with back-off up to host.json's maxPollingInterval, a
/// failed message becomes visible again after visibilityTimeout and goes to "{queue}-poison" after maxDequeueCount attempts. Schedules
/// and queue names resolve %Setting% from configuration, like the Functions host. Durable triggers are served by the Durable worker.
/// </summary>
public sealed class TriggerFunctions(IServiceProvider services, IConfiguration configuration, PrmQueues queues, QueueTriggerSettings settings, ILogger<TriggerFunctions> log)
    : BackgroundService
{
    /// <summary>The trigger kinds this host serves (HTTP through <see cref="FunctionEndpoints"/>, durable ones through the Durable worker).</summary>
    public static readonly IReadOnlyList<Type> ServedTriggers =
        [typeof(HttpTriggerAttribute), typeof(QueueTriggerAttribute), typeof(TimerTriggerAttribute), typeof(OrchestrationTriggerAttribute), typeof(ActivityTriggerAttribute)];

    private static readonly JsonSerializerOptions PocoJson = new(JsonSerializerDefaults.Web);

    private sealed record Runner(TriggeredFunction Function, Func<object?, CancellationToken, object?>[] Binders);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loops = new List<Task>();
        foreach (var function in FunctionCatalog.AllFunctions)
        {
            switch (function.Attribute)
            {
                case QueueTriggerAttribute queue:
                    loops.Add(Task.Run(() => PollAsync(function, Resolve(queue.QueueName), stoppingToken), stoppingToken));
                    break;
                case TimerTriggerAttribute timer:
                    loops.Add(Task.Run(() => ScheduleAsync(function, Resolve(timer.Schedule), stoppingToken), stoppingToken));
                    break;
            }
        }
        await Task.WhenAll(loops.Select(l => l.ContinueWith(_ => { }, TaskScheduler.Default)));
    }

    /// <summary>Throws at start for a function whose trigger or parameters this host cannot serve (tested for every function).</summary>
    public void Validate()
    {
        foreach (var function in FunctionCatalog.AllFunctions)
        {
            if (function.Attribute is null || !ServedTriggers.Contains(function.Attribute.GetType()))
                throw new InvalidOperationException($"The local host cannot serve function {function.Name}: trigger {function.Attribute?.GetType().Name ?? "(none)"}.");
            if (function.Attribute is QueueTriggerAttribute or TimerTriggerAttribute) _ = Binders(function);
        }
    }

    /// <summary>%Name% is read from configuration (Name with ':' or "__"); a literal stays as it is.</summary>
    public string Resolve(string value)
    {
        if (value.Length < 2 || !value.StartsWith('%') || !value.EndsWith('%')) return value;
        var name = value[1..^1];
        return configuration[name] ?? configuration[name.Replace("__", ":", StringComparison.Ordinal)]
            ?? throw new InvalidOperationException($"The setting {name} (binding expression {value}) has no value.");
    }

    private Func<object?, CancellationToken, object?>[] Binders(TriggeredFunction function) =>
        function.Method.GetParameters().Select(p => Binder(function, p)).ToArray();

    private Func<object?, CancellationToken, object?> Binder(TriggeredFunction function, ParameterInfo parameter)
    {
        if (parameter == function.Trigger || parameter.Position == function.Trigger?.Position)
        {
            var type = parameter.ParameterType;
            if (function.Attribute is TimerTriggerAttribute)
            {
                return type == typeof(TimerInfo) ? (value, _) => value
                    : throw new InvalidOperationException($"The local host binds timer triggers to TimerInfo only ({function.Name}).");
            }
            if (type == typeof(string)) return (value, _) => value;
            if (type == typeof(BinaryData)) return (value, _) => BinaryData.FromString((string)value!);
            if (type.IsClass || type.IsValueType) return (value, _) => JsonSerializer.Deserialize((string)value!, type, PocoJson);
        }
        if (parameter.ParameterType == typeof(CancellationToken)) return (_, ct) => ct;
        if (parameter.GetCustomAttribute<DurableClientAttribute>() is not null && parameter.ParameterType == typeof(DurableTaskClient))
        {
            return (_, _) => services.GetRequiredService<DurableTaskClient>();
        }
        throw new InvalidOperationException($"The local host cannot bind parameter {parameter.Name} of {function.Name}.");
    }

    private async Task InvokeAsync(TriggeredFunction function, Func<object?, CancellationToken, object?>[] binders, object? triggerValue, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var target = function.Method.IsStatic ? null : ActivatorUtilities.GetServiceOrCreateInstance(scope.ServiceProvider, function.Method.DeclaringType!);
        object? returned;
        try
        {
            returned = function.Method.Invoke(target, binders.Select(b => b(triggerValue, ct)).ToArray());
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }
        if (returned is Task task) await task;
    }

    private async Task PollAsync(TriggeredFunction function, string queueName, CancellationToken ct)
    {
        var binders = Binders(function);
        var queue = queues.Service.GetQueueClient(queueName);
        var poison = queues.Service.GetQueueClient(queueName + "-poison");
        var minimum = TimeSpan.FromMilliseconds(100);
        var wait = minimum;
        // Messages are invisible while a call runs (the Functions host renews this; a call here stays far below it).
        var processing = TimeSpan.FromMinutes(10);
        var created = false;
        while (!ct.IsCancellationRequested)
        {
            QueueMessage[] messages;
            try
            {
                if (!created)
                {
                    await queue.CreateIfNotExistsAsync(cancellationToken: ct);
                    created = true;
                }
                messages = (await queue.ReceiveMessagesAsync(settings.BatchSize, processing, ct)).Value;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "Polling queue {Queue} for {Function} failed", queueName, function.Name);
                messages = [];
            }
            if (messages.Length == 0)
            {
                // Randomized exponential back-off up to maxPollingInterval, like the Functions queue listener.
                try { await Task.Delay(wait, ct); } catch (OperationCanceledException) { return; }
                wait = TimeSpan.FromMilliseconds(Math.Min(settings.MaxPollingInterval.TotalMilliseconds, wait.TotalMilliseconds * 2));
                continue;
            }
            wait = minimum;
            await Task.WhenAll(messages.Select(m => HandleAsync(function, binders, queue, poison, m, ct)));
        }
    }

    private async Task HandleAsync(TriggeredFunction function, Func<object?, CancellationToken, object?>[] binders, QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken ct)
    {
        try
        {
            await InvokeAsync(function, binders, message.Body.ToString(), ct);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
            return;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return; // visible again later
        }
        catch (Exception ex)
        {
            log.LogWarning(ex, "{Function} failed on message {MessageId} (dequeue count {Count})", function.Name, message.MessageId, message.DequeueCount);
        }
        try
        {
            if (message.DequeueCount >= settings.MaxDequeueCount)
            {
                await poison.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None);
                await poison.SendMessageAsync(message.Body, cancellationToken: CancellationToken.None);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
                log.LogWarning("Message {MessageId} moved to {Poison}", message.MessageId, poison.Name);
            }
            else
            {
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: settings.VisibilityTimeout, cancellationToken: CancellationToken.None);
            }
        }
        catch (Exception ex)
        {
            log.LogWarning(ex, "Could not release message {MessageId} of {Queue}", message.MessageId, queue.Name);
        }
    }

    private async Task ScheduleAsync(TriggeredFunction function, string expression, CancellationToken ct)
    {
        var binders = Binders(function);
        var schedule = CrontabSchedule.Parse(expression, new CrontabSchedule.ParseOptions { IncludingSeconds = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 });
        DateTime? last = null;
        while (!ct.IsCancellationRequested)
        {
            var now = DateTime.UtcNow;
            var next = schedule.GetNextOccurrence(now);
            try { await Task.Delay(next - now, ct); } catch (OperationCanceledException) { return; }
            var info = new TimerInfo
            {
                IsPastDue = false,
                ScheduleStatus = new ScheduleStatus { Last = last ?? default, Next = schedule.GetNextOccurrence(next), LastUpdated = DateTime.UtcNow },
            };
            last = next;
            try
            {
                await InvokeAsync(function, binders, info, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "Timer function {Function} failed", function.Name);
            }
        }
    }
}
