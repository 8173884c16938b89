using System.Diagnostics;
using System.Globalization;
using System.Text;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Prm.Core.Audit;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Storage;
using Prm.Storage.Outbox;
using Prm.Testing;

namespace Prm.Benchmarks;

/// <summary>
/// Backlog drain after a crash: messages committed (rows and pointers written) whose in-process delivery never ran — what a host killed
/// under load leaves — delivered by one sweep (the OutboxSweep timer, or the first sweep of the next host) to the development mail outbox
/// and event sink. Reports the time and rate, and checks every message was delivered exactly once.
/// </summary>
public static class DrainBenchmark
{
    public static async Task<string> RunAsync(bool quick)
    {
        var count = quick ? 200 : 1000;
        const int perCommit = 5;
        var storage = await TestAzurite.FreshStorageAsync();
        var tables = new PrmTables(storage);
        await tables.EnsureCreatedAsync(CancellationToken.None);
        var crashed = new OutboxSignal(); // nobody reads it: the host died before delivering
        var writer = new PartitionWriter(new OutboxPointers(tables, crashed));
        var now = DateTimeOffset.UtcNow;
        Console.WriteLine($"Committing a backlog of {count} messages ({perCommit} per commit, one partner partition per commit)...");
        for (var c = 0; c < count / perCommit; c++)
        {
            var partition = $"ptn_drain{c:0000}";
            var messages = Enumerable.Range(0, perCommit).Select(i => i % 2 == 0
                ? OutboxMessage.ForEmail($"msg_{c:0000}_{i}", new EmailMessage($"user{c}.{i}@drain.example", "Drain", "Backlog", "text", "<p>html</p>", "t"), now, partition, "corr")
                : OutboxMessage.ForEvent(IntegrationEvent.Create($"evt_{c:0000}_{i}", "partner.updated", now, $"partners/{partition}", partition, "corr", new { value = i }))).ToList();
            await writer.CommitAsync(tables.Partners, partition, [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, "state|drain") { ["Value"] = 1 })],
                new ChangeSet([], messages), CancellationToken.None);
        }
        var mailbox = new DevMailbox(tables, TimeProvider.System);
        var counting = new CountingSender(mailbox);
        var options = new OutboxOptions { InProcessGraceSeconds = 0, PointerGraceSeconds = 60 };
        using var dispatcher = new OutboxDispatcher(tables, new OutboxSignal(), new DevEventSink(tables, TimeProvider.System), counting, [], options, TimeProvider.System,
            NullLogger<OutboxDispatcher>.Instance);
        Console.WriteLine("Draining with one sweep...");
        var watch = Stopwatch.StartNew();
        var delivered = await dispatcher.SweepAsync(CancellationToken.None);
        watch.Stop();
        var left = 0;
        await foreach (var _ in tables.OutboxPending.QueryAsync<TableEntity>(select: ["PartitionKey"])) left++;
        var duplicates = counting.Counts.Count(kv => kv.Value > 1);
        var md = new StringBuilder();
        md.AppendLine().AppendLine("## Outbox backlog drain after a crash").AppendLine();
        md.AppendLine("| backlog | delivered | pointers left | duplicate sends | seconds | messages/s | sweep parallelism |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| {count} | {delivered} | {left} | {duplicates} | {watch.Elapsed.TotalSeconds:0.0} | {delivered / watch.Elapsed.TotalSeconds:0} | {options.SweepParallelism} |");
        if (delivered != count || left != 0 || duplicates != 0) throw new InvalidOperationException("The sweep did not deliver the backlog exactly once:\n" + md);
        return md.ToString();
    }

    private sealed class CountingSender(IEmailSender inner) : IEmailSender
    {
        public System.Collections.Concurrent.ConcurrentDictionary<string, int> Counts { get; } = new();

        public Task SendAsync(string messageId, EmailMessage email, CancellationToken ct)
        {
            Counts.AddOrUpdate(messageId, 1, (_, n) => n + 1);
            return inner.SendAsync(messageId, email, ct);
        }
    }
}
