using Prm.Core.Common;
using Prm.Core.Partners;

namespace Prm.Core.Pos;

/// <summary>How a line's reseller was found: by partner id, domain or exact name; by a similar name (with its similarity); or not at all.</summary>
public sealed record PosResellerMatch(string Kind, string? PartnerId, string? PartnerName, double? Similarity);

/// <summary>
/// The end customer's active (approved) or won deal registration: of the reseller ("reseller": partner-sourced), of another partner
/// ("otherPartner": flagged to the reseller's channel manager), or none.
/// </summary>
public sealed record PosCustomerMatch(string Kind, string? DealId, string? PartnerId);

/// <summary>One line of the report: accepted or rejected (errors by field), the matches, the duplicate flag and the line's amount.</summary>
public sealed record PosLineReport(int Line, string Status, IReadOnlyDictionary<string, string> Errors, string? InvoiceNo, int? InvoiceLine, DateOnly? Date,
    PosResellerMatch? Reseller, PosCustomerMatch? Customer, bool Duplicate, decimal? Amount, string? Currency);

/// <summary>The report of a POS batch (dry run or commit).</summary>
public sealed record PosBatchReport(string? BatchId, bool Committed, string? Reporter, string? Period, int Lines, int Accepted, int Rejected, int Duplicates, int Conflicts,
    string? SupersededBatchId, IReadOnlyList<PosLineReport> Report);

/// <summary>A committed batch: who reported which period, when, what it counted (the KPI subjects "partnerId|yyyyMMdd") and whether a later batch replaced it.</summary>
public sealed record PosBatch(string Id, string Reporter, string Period, string Status, int Lines, int Counted, DateTimeOffset CreatedAt, string CreatedBy,
    IReadOnlyList<string> Subjects, string? SupersededBy = null);

/// <summary>A stored line of a committed batch (its report line and the parsed values).</summary>
public sealed record PosStoredLine(int Line, string InvoiceNo, int InvoiceLine, DateOnly Date, string ProductLine, decimal Quantity, decimal UnitPrice, string Currency,
    string? CustomerName, string? CustomerDomain, string? CustomerCountry, string? PartnerId, string ResellerMatch, string CustomerMatch, string? MatchedDealId, bool Duplicate);

/// <summary>
/// GET /pos/batches/{batchId}: a committed batch's status (Committed, or Superseded with the batch that replaced it), its counts and a page
/// of its stored lines (the report of each line as committed: reseller and customer match, duplicate flag).
/// </summary>
public sealed record PosBatchDetails(PosBatch Batch, int Duplicates, IReadOnlyList<PosStoredLine> Lines, string? NextCursor);

/// <summary>Storage port of POS batches: key rows per reporter, lines per batch, batch rows and the current batch per reporter and period.</summary>
public interface IPosStore
{
    /// <summary>The (invoiceNo|line) keys of a reporter already imported, with the batch that holds each.</summary>
    Task<IReadOnlyDictionary<string, string>> KeysAsync(string reporter, CancellationToken ct);

    Task<Versioned<PosBatch>?> GetBatchAsync(string batchId, CancellationToken ct);

    /// <summary>A page of the stored lines of a batch, in file order.</summary>
    Task<Page<PosStoredLine>> LinesAsync(string batchId, PageRequest page, CancellationToken ct);

    /// <summary>The current batch of a reporter and period, with the pointer's ETag.</summary>
    Task<(string BatchId, string ETag)?> CurrentAsync(string reporter, string period, CancellationToken ct);

    /// <summary>Writes the lines and claims the keys of the batch's counted lines (batched writes).</summary>
    Task SaveLinesAsync(string batchId, string reporter, IReadOnlyList<PosStoredLine> lines, CancellationToken ct);

    /// <summary>
    /// One transaction: the new batch row, the superseded batch marked (If-Match), the current pointer moved (If-Match; null: new) and
    /// the outbox messages. 412 when another batch of the same reporter and period committed in between.
    /// </summary>
    Task CommitAsync(PosBatch batch, Versioned<PosBatch>? superseded, string? pointerETag, ChangeSet changes, CancellationToken ct);
}
