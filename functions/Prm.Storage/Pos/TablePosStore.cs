using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Prm.Core.Common;
using Prm.Core.Partners;
using Prm.Core.Pos;

namespace Prm.Storage.Pos;

/// <summary>
/// The POS table: key rows per reporter (partition "key|{reporter}", row "{invoiceNo}|{line}" naming the batch that holds the line), the
/// lines of a batch (partition "lines|{batchId}", row the file's line number), and in partition "batches" the batch rows ("b|{batchId}")
/// with the current batch per reporter and period ("cur|{reporter}|{period}") and the conflict emails' outbox rows.
/// </summary>
public sealed class TablePosStore(PrmTables tables, PartitionWriter writer) : IPosStore
{
    private const string Batches = "batches";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private TableClient Table => tables.Pos;

    private static string KeyPartition(string reporter) => "key|" + KeyEncoding.Encode(reporter);

    private static string PointerRow(string reporter, string period) => "cur|" + KeyEncoding.Encode(reporter) + "|" + period;

    public async Task<IReadOnlyDictionary<string, string>> KeysAsync(string reporter, CancellationToken ct)
    {
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var e in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {KeyPartition(reporter)}"), select: ["RowKey", "BatchId"], cancellationToken: ct))
        {
            keys[Uri.UnescapeDataString(e.RowKey)] = e.GetString("BatchId");
        }
        return keys;
    }

    public async Task<Versioned<PosBatch>?> GetBatchAsync(string batchId, CancellationToken ct)
    {
        var found = await Table.GetEntityIfExistsAsync<TableEntity>(Batches, "b|" + batchId, cancellationToken: ct);
        return found.HasValue ? new Versioned<PosBatch>(JsonSerializer.Deserialize<PosBatch>(found.Value!.GetString("Body"), Json)!, found.Value.ETag.ToString()) : null;
    }

    public Task<Prm.Core.Common.Page<PosStoredLine>> LinesAsync(string batchId, PageRequest page, CancellationToken ct) =>
        PrmTables.PageAsync(Table, TableClient.CreateQueryFilter($"PartitionKey eq {"lines|" + batchId}"), page,
            e => JsonSerializer.Deserialize<PosStoredLine>(e.GetString("Body"), Json)!, ct);

    public async Task<(string BatchId, string ETag)?> CurrentAsync(string reporter, string period, CancellationToken ct)
    {
        var found = await Table.GetEntityIfExistsAsync<TableEntity>(Batches, PointerRow(reporter, period), cancellationToken: ct);
        return found.HasValue ? (found.Value!.GetString("BatchId"), found.Value.ETag.ToString()) : null;
    }

    public async Task SaveLinesAsync(string batchId, string reporter, IReadOnlyList<PosStoredLine> lines, CancellationToken ct)
    {
        var lineRows = lines.Select(l => new TableEntity("lines|" + batchId, l.Line.ToString("D7", System.Globalization.CultureInfo.InvariantCulture)) { ["Body"] = JsonSerializer.Serialize(l, Json) });
        var keyRows = lines.Where(l => !l.Duplicate)
            .Select(l => new TableEntity(KeyPartition(reporter), KeyEncoding.Encode(l.InvoiceNo + "|" + l.InvoiceLine.ToString(System.Globalization.CultureInfo.InvariantCulture))) { ["BatchId"] = batchId })
            .DistinctBy(e => e.RowKey, StringComparer.Ordinal);
        var chunks = lineRows.Chunk(100).Concat(keyRows.Chunk(100)).ToList();
        using var gate = new SemaphoreSlim(8);
        await Task.WhenAll(chunks.Select(async chunk =>
        {
            await gate.WaitAsync(ct);
            try
            {
                await Table.SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)), ct);
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    public async Task CommitAsync(PosBatch batch, Versioned<PosBatch>? superseded, string? pointerETag, ChangeSet changes, CancellationToken ct)
    {
        var reporter = batch.Reporter.Trim().ToLowerInvariant();
        var actions = new List<TableTransactionAction>
        {
            new(TableTransactionActionType.Add, new TableEntity(Batches, "b|" + batch.Id) { ["Body"] = JsonSerializer.Serialize(batch, Json), ["Reporter"] = reporter, ["Period"] = batch.Period }),
        };
        var pointer = new TableEntity(Batches, PointerRow(reporter, batch.Period)) { ["BatchId"] = batch.Id };
        actions.Add(pointerETag is null ? new(TableTransactionActionType.Add, pointer) : new(TableTransactionActionType.UpdateReplace, pointer, new ETag(pointerETag)));
        if (superseded is not null)
        {
            var old = superseded.Value with { Status = "Superseded", SupersededBy = batch.Id };
            actions.Add(new(TableTransactionActionType.UpdateReplace, new TableEntity(Batches, "b|" + old.Id) { ["Body"] = JsonSerializer.Serialize(old, Json), ["Reporter"] = reporter, ["Period"] = old.Period }, new ETag(superseded.ETag)));
        }
        try
        {
            await writer.CommitAsync(Table, Batches, actions, changes, ct);
        }
        catch (ConflictException)
        {
            throw new PreconditionFailedException("Another batch of this reporter and period was committed meanwhile; upload again.");
        }
    }
}
