using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging;

namespace Prm.Storage.Outbox;

/// <summary>
/// A queue message naming committed outbox messages (by table, partition and message id; the rows are read by point reads) that need a
/// workflow client, for the queue-triggered <c>OutboxDeliver</c> function. Body: JSON, camelCase.
/// </summary>
public sealed record OutboxQueueMessage(string Table, string Partition, IReadOnlyList<string> MessageIds, int Deferrals = 0);

/// <summary>The storage account's queue service (the account of AzureWebJobsStorage): the outbox queue and its poison queue.</summary>
public sealed class PrmQueues
{
    public PrmQueues(StorageOptions storage, OutboxOptions outbox)
    {
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }; // what the Functions queue trigger expects
        options.AddPolicy(StorageCallCountingPolicy.Instance, HttpPipelinePosition.PerRetry);
        options.Retry.MaxRetries = 3;
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        Service = !string.IsNullOrWhiteSpace(storage.ConnectionString)
            ? new QueueServiceClient(storage.ConnectionString, options)
            : new QueueServiceClient(new Uri(storage.QueueServiceUri ?? throw new InvalidOperationException("Storage:QueueServiceUri or Storage:ConnectionString must be set.")),
                Credentials.For(storage), options);
        Outbox = Service.GetQueueClient(outbox.QueueName);
    }

    public QueueServiceClient Service { get; }

    public QueueClient Outbox { get; }
}

/// <summary>Sends <see cref="OutboxQueueMessage"/>s, best effort: a lost message is delivered by the sweep.</summary>
public sealed class OutboxQueue(PrmQueues queues, ILogger<OutboxQueue> log)
{
    private static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web);
    private volatile bool created;

    public static string Serialize(OutboxQueueMessage message) => System.Text.Json.JsonSerializer.Serialize(message, Json);

    public static OutboxQueueMessage Deserialize(string body) =>
        System.Text.Json.JsonSerializer.Deserialize<OutboxQueueMessage>(body, Json) ?? throw new FormatException("Empty outbox queue message.");

    /// <summary>Enqueues the message; returns false (logged) when the queue could not be reached.</summary>
    public async Task<bool> SendAsync(OutboxQueueMessage message, CancellationToken ct, TimeSpan? delay = null)
    {
        try
        {
            if (!created)
            {
                await queues.Outbox.CreateIfNotExistsAsync(cancellationToken: ct);
                created = true;
            }
            await queues.Outbox.SendMessageAsync(Serialize(message), visibilityTimeout: delay, cancellationToken: ct);
            return true;
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            log.LogWarning(ex, "Could not enqueue outbox messages {MessageIds} of {Table}/{Partition}; the sweep delivers them", string.Join(",", message.MessageIds), message.Table, message.Partition);
            return false;
        }
    }
}
