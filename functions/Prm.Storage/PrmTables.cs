using System.Text;

using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Prm.Core.Common;

namespace Prm.Storage;

/// <summary>The tables of PrmFunctions, created once per process.</summary>
public sealed class PrmTables
{
    /// <param name="transport">
    /// A policy run on every transport attempt after the round-trip counter (tests: an answer lost after the request went through, so
    /// the client resends it as it does on a network timeout).
    /// </param>
    public PrmTables(StorageOptions options, Azure.Core.Pipeline.HttpPipelinePolicy? transport = null)
    {
        var clientOptions = new TableClientOptions();
        clientOptions.AddPolicy(StorageCallCountingPolicy.Instance, HttpPipelinePosition.PerRetry);
        if (transport is not null) clientOptions.AddPolicy(transport, HttpPipelinePosition.PerRetry);
        clientOptions.Retry.MaxRetries = 3;
        clientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        Service = !string.IsNullOrWhiteSpace(options.ConnectionString)
            ? new TableServiceClient(options.ConnectionString, clientOptions)
            : new TableServiceClient(new Uri(options.TableServiceUri ?? throw new InvalidOperationException("Storage:TableServiceUri or Storage:ConnectionString must be set.")),
                Credentials.For(options), clientOptions);
        var prefix = options.TablePrefix;
        Partners = Service.GetTableClient(prefix + "partners");
        Keys = Service.GetTableClient(prefix + "keys");
        Staff = Service.GetTableClient(prefix + "staff");
        PartnerIndex = Service.GetTableClient(prefix + "partnerindex");
        OutboxPending = Service.GetTableClient(prefix + "outboxpending");
        DevMail = Service.GetTableClient(prefix + "devmail");
        Applications = Service.GetTableClient(prefix + "applications");
        ApplicationIndex = Service.GetTableClient(prefix + "applicationindex");
        DevEvents = Service.GetTableClient(prefix + "devevents");
        Settings = Service.GetTableClient(prefix + "settings");
        Deals = Service.GetTableClient(prefix + "deals");
        DealIndex = Service.GetTableClient(prefix + "dealindex");
        ConflictIndex = Service.GetTableClient(prefix + "conflictindex");
        Catalog = Service.GetTableClient(prefix + "catalog");
        MdfBudgets = Service.GetTableClient(prefix + "mdfbudgets");
        MdfIndex = Service.GetTableClient(prefix + "mdfindex");
        Assets = Service.GetTableClient(prefix + "assets");
        Leads = Service.GetTableClient(prefix + "leads");
        LeadIndex = Service.GetTableClient(prefix + "leadindex");
        LeadRouting = Service.GetTableClient(prefix + "leadrouting");
        Training = Service.GetTableClient(prefix + "training");
        Webhooks = Service.GetTableClient(prefix + "webhooks");
        WebhookLanes = Service.GetTableClient(prefix + "webhooklanes");
        EventLog = Service.GetTableClient(prefix + "eventlog");
        Integration = Service.GetTableClient(prefix + "integration");
        Analytics = Service.GetTableClient(prefix + "analytics");
        Pos = Service.GetTableClient(prefix + "pos");
        Incentives = Service.GetTableClient(prefix + "incentives");
        Plans = Service.GetTableClient(prefix + "plans");
        Notifications = Service.GetTableClient(prefix + "notifications");
    }

    /// <summary>Notification preferences and digest items: a partition per person, with outbox rows.</summary>
    public TableClient Notifications { get; }

    /// <summary>Joint business plans: a partition per partner with its plans, their versions and a key row per fiscal year, with timeline and outbox rows.</summary>
    public TableClient Plans { get; }

    /// <summary>KPIs: a partition per partner with each record's contribution, the fact rows (drill-down) and the day/month/year/all-time buckets.</summary>
    public TableClient Analytics { get; }

    /// <summary>POS batches: key rows per reporter, lines per batch, batch rows with the current batch per reporter and period.</summary>
    public TableClient Pos { get; }

    /// <summary>
    /// Incentives: programs and their versions ("programs"), period records ("periods|{programId}") and members
    /// ("members|{programId}|{period}"), and a partition per partner: its ledgers (head, inputs, key rows, entries, balances, deals per
    /// program), payouts and tax form, with timeline and outbox rows.
    /// </summary>
    public TableClient Incentives { get; }

    /// <summary>Webhook subscriptions (partition "sub") and, per subscription, its deliveries, queue, delivery log and fan-out key rows.</summary>
    public TableClient Webhooks { get; }

    /// <summary>Webhook lanes: a row per (subscription, subject) with deliveries queued, and when it is next due (the due-time queue).</summary>
    public TableClient WebhookLanes { get; }

    /// <summary>Every published event, by hour (partition yyyyMMddHH, row time|id), kept for replay.</summary>
    public TableClient EventLog { get; }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CoalescedUpserts> coalesced = new(StringComparer.Ordinal);

    /// <summary>
    /// Replace-upserts into <paramref name="table"/> coalesced per partition (<see cref="CoalescedUpserts"/>), shared by every writer of the
    /// process: for the hot partitions many writers share (the partner list index, the hourly event log, the development mail and event sinks).
    /// </summary>
    public CoalescedUpserts Coalesced(TableClient table) => coalesced.GetOrAdd(table.Name, _ => new CoalescedUpserts(table));

    /// <summary>CRM events in: per record ("rec:{system}:{kind}:{externalId}") the last applied version and the inbox of received events; parked events ("parked").</summary>
    public TableClient Integration { get; }

    /// <summary>The content library: the catalog partition (assets, listing rows, date index, timeline, outbox) and a partition per asset's downloads.</summary>
    public TableClient Assets { get; }

    /// <summary>Leads: a partition per lead (lead row, timeline, outbox rows).</summary>
    public TableClient Leads { get; }

    /// <summary>Lead lists ("all", "p:{partnerId}", newest first) and the offer log ("offers", by time).</summary>
    public TableClient LeadIndex { get; }

    /// <summary>The routing index ("all", "r:{region}", "c:{country}": bucket rows of partner entries) and partner figures ("fig:{partnerId}").</summary>
    public TableClient LeadRouting { get; }

    /// <summary>Training and certification: a partition per person (enrollments, attempts, awards, statements), courses, definitions, look-up rows.</summary>
    public TableClient Training { get; }

    /// <summary>Deal registrations: a partition per partner (deals, idempotency keys, counters, timeline, outbox rows).</summary>
    public TableClient Deals { get; }

    /// <summary>Vendor deal lists (PartitionKey "all" or "cm:{id}", newest first).</summary>
    public TableClient DealIndex { get; }

    /// <summary>Conflict candidates: a partition per customer domain ("d:") and per name blocking key ("n:").</summary>
    public TableClient ConflictIndex { get; }

    /// <summary>Conflict buckets this process found absent moments ago (a hint for the projection that writes them: see <see cref="Deals.AbsentBuckets"/>).</summary>
    public Deals.AbsentBuckets AbsentConflictBuckets { get; } = new();

    /// <summary>Product lines and house accounts.</summary>
    public TableClient Catalog { get; }

    public TableServiceClient Service { get; }

    /// <summary>Partner partitions: profile, users, timeline, outbox rows (PartitionKey = partner id).</summary>
    public TableClient Partners { get; }

    /// <summary>Uniqueness and look-up key rows (PartitionKey = kind:value, RowKey empty).</summary>
    public TableClient Keys { get; }

    /// <summary>Vendor staff (PartitionKey "staff").</summary>
    public TableClient Staff { get; }

    /// <summary>Partner list index (PartitionKey "all" or "cm:{id}", RowKey nameKey|partnerId).</summary>
    public TableClient PartnerIndex { get; }

    /// <summary>Pointers to partitions that hold undelivered outbox rows.</summary>
    public TableClient OutboxPending { get; }

    /// <summary>Partner applications: a partition per application (PartitionKey = application id).</summary>
    public TableClient Applications { get; }

    /// <summary>The vetting queue (PartitionKey "all" or "assignee:{id}", RowKey newest first).</summary>
    public TableClient ApplicationIndex { get; }

    /// <summary>Program settings: partition "program", a row per section and the settings timeline.</summary>
    public TableClient Settings { get; }

    /// <summary>MDF: a partition per budget (budget row, ledger, key rows, requests with claims, audit, outbox).</summary>
    public TableClient MdfBudgets { get; }

    /// <summary>MDF look-ups: where an id lives, budgets per partner, request lists.</summary>
    public TableClient MdfIndex { get; }

    /// <summary>Development-only: sent email.</summary>
    public TableClient DevMail { get; }

    /// <summary>Development-only: published events.</summary>
    public TableClient DevEvents { get; }

    public IEnumerable<TableClient> All => [Partners, Keys, Staff, PartnerIndex, OutboxPending, DevMail, DevEvents, Applications, ApplicationIndex, Settings, Deals, DealIndex, ConflictIndex, Catalog, MdfBudgets, MdfIndex, Assets, Leads, LeadIndex, LeadRouting, Training, Webhooks, WebhookLanes, EventLog, Integration, Analytics, Pos, Incentives, Plans, Notifications];

    /// <summary>Creates every table that does not exist yet.</summary>
    public async Task EnsureCreatedAsync(CancellationToken ct)
    {
        foreach (var table in All) await table.CreateIfNotExistsAsync(ct);
    }

    /// <summary>Reads one page of a query, with the opaque cursor of the next.</summary>
    /// <param name="keep">Rows the page shows (others, e.g. tombstones, are skipped: the page may then hold fewer than its limit).</param>
    public static async Task<Page<T>> PageAsync<T>(TableClient table, string filter, PageRequest page, Func<TableEntity, T> map, CancellationToken ct,
        Func<TableEntity, bool>? keep = null)
    {
        string? continuation = null;
        if (page.Cursor is not null)
        {
            continuation = PageCursor.Decode(page.Cursor) ?? throw new ValidationFailedException("cursor", "cursor is not a cursor this API returned.");
        }
        try
        {
            await foreach (var result in table.QueryAsync<TableEntity>(filter, page.Limit, cancellationToken: ct).AsPages(continuation, page.Limit))
            {
                var next = result.ContinuationToken is null ? null : PageCursor.Encode(result.ContinuationToken);
                return new Page<T>(result.Values.Where(keep ?? (_ => true)).Select(map).ToList(), next);
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 400 && page.Cursor is not null)
        {
            throw new ValidationFailedException("cursor", "cursor is not a cursor this API returned.");
        }
        return new Page<T>([], null);
    }
}

internal static class Credentials
{
    public static TokenCredential For(StorageOptions options) => string.IsNullOrWhiteSpace(options.ManagedIdentityClientId)
        ? new DefaultAzureCredential()
        : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(options.ManagedIdentityClientId));
}
