using Microsoft.Extensions.Logging.Abstractions;
using Azure.Data.Tables;
using Prm.Core.Analytics;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Outbox;
using Prm.Storage.Analytics;

namespace Prm.Storage.Tests.Analytics;

/// <summary>The KPI buckets are kept on write from the outbox, exact under redelivery, late delivery and concurrent events; the recount repairs a bucket.</summary>
public sealed class KpiBucketTests
{
    private static readonly DateTimeOffset Submitted = new(2026, 9, 20, 10, 0, 0, TimeSpan.Zero);
    private static readonly AnalyticsCalendar Utc = new(TimeZoneInfo.Utc);

    private static Deal Deal(string partnerId, DealStatus status, DateTimeOffset updated, DealOutcome? outcome = null, string? id = null) => new()
    {
        Id = id ?? DealIds.New(partnerId, Submitted),
        RegistrationNumber = DealIds.RegistrationNumber(Submitted),
        PartnerId = partnerId,
        PartnerName = "P",
        SubmittedBy = "usr_x",
        SubmittedByName = "X",
        SubmittedByEmail = "x@p.example",
        Status = status,
        Customer = new DealCustomer("Acme", "acme.example", "DE", null, null, "acme", ["t-acme"]),
        Products = ["cloud-backup"],
        EstimatedValue = new Money(10_000m, "EUR"),
        ExpectedCloseDate = new DateOnly(2026, 10, 30),
        CreatedAt = Submitted,
        SubmittedAt = Submitted,
        ApprovedAt = status == DealStatus.UnderReview ? null : Submitted.AddHours(5),
        Conflict = new DealConflict("none", 0, [], [], false, true),
        UpdatedAt = updated,
        Outcome = outcome,
    };

    private static IntegrationEvent Event(string type, Deal d) => DealEvents.Create(type, d, d.UpdatedAt);

    private static async Task<Dictionary<string, decimal>> CountersAsync(IKpiStore store, string partnerId, string row) =>
        (await store.ReadAsync(partnerId, [row], CancellationToken.None)).GetValueOrDefault(row)?.Counters.ToDictionary(c => c.Key, c => c.Value) ?? [];

    [Fact]
    public async Task A_redelivered_or_late_event_changes_no_bucket_and_a_won_deal_moves_from_pipeline_to_revenue()
    {
        var s = await TestStores.CreateAsync();
        var store = new TableKpiStore(s.Tables);
        var projection = new KpiProjection(store, s.Store, new Prm.Storage.Onboarding.TableApplicationStore(s.Tables, s.Writer, s.Clock, NullLogger<Prm.Storage.Onboarding.TableApplicationStore>.Instance), new Prm.Storage.Mdf.TableMdfStore(s.Tables, s.Writer, NullLogger<Prm.Storage.Mdf.TableMdfStore>.Instance), Utc);
        var partnerId = Ids.New("ptn");
        var approved = Deal(partnerId, DealStatus.Approved, Submitted.AddHours(5));
        var won = Deal(partnerId, DealStatus.Won, Submitted.AddDays(30), new DealOutcome("won", new Money(12_000m, "EUR"), new DateOnly(2026, 10, 15), null, "X", Submitted.AddDays(30)), approved.Id);

        await projection.ApplyAsync(Event(DealEvents.Approved, approved), CancellationToken.None);
        (await CountersAsync(store, partnerId, KpiRows.Total)).Should().Equal(new Dictionary<string, decimal>
        {
            ["cloud-backup|registrationsSubmitted"] = 1,
            ["cloud-backup|registrationsApproved"] = 1,
            ["cloud-backup|pipeline:EUR"] = 10_000m,
            ["cloud-backup|decisionHours:le8"] = 1,
        });
        await projection.ApplyAsync(Event(DealEvents.Won, won), CancellationToken.None);
        await projection.ApplyAsync(Event(DealEvents.Won, won), CancellationToken.None);
        await projection.ApplyAsync(Event(DealEvents.Approved, approved), CancellationToken.None); // late: older than the won event

        var total = await CountersAsync(store, partnerId, KpiRows.Total);
        total["cloud-backup|won"].Should().Be(1);
        total["cloud-backup|wonRevenue:EUR"].Should().Be(12_000m);
        total.Should().NotContainKey("cloud-backup|pipeline:EUR", "the deal left the pipeline when it was won");
        (await CountersAsync(store, partnerId, "m|202609")).Should().ContainKey("cloud-backup|pipeline:EUR").WhoseValue.Should().Be(10_000m);
        (await CountersAsync(store, partnerId, "m|202610")).Should().Equal(new Dictionary<string, decimal>
        {
            ["cloud-backup|won"] = 1,
            ["cloud-backup|wonRevenue:EUR"] = 12_000m,
            ["cloud-backup|pipeline:EUR"] = -10_000m,
        });
        var rows = await store.FactsAsync(partnerId, KpiMetrics.Won, new DateOnly(2026, 10, 1), new DateOnly(2026, 10, 31), new PageRequest(50, null), CancellationToken.None);
        rows.Items.Should().ContainSingle().Which.SubjectId.Should().Be(approved.Id);
        (await store.FactsAsync(partnerId, KpiMetrics.Won, new DateOnly(2026, 10, 16), new DateOnly(2026, 10, 31), new PageRequest(50, null), CancellationToken.None)).Items.Should().BeEmpty();
    }

    [Fact]
    public async Task Concurrent_events_of_one_partner_count_exactly_once_each()
    {
        var s = await TestStores.CreateAsync();
        var store = new TableKpiStore(s.Tables);
        var projection = new KpiProjection(store, s.Store, new Prm.Storage.Onboarding.TableApplicationStore(s.Tables, s.Writer, s.Clock, NullLogger<Prm.Storage.Onboarding.TableApplicationStore>.Instance), new Prm.Storage.Mdf.TableMdfStore(s.Tables, s.Writer, NullLogger<Prm.Storage.Mdf.TableMdfStore>.Instance), Utc);
        var partnerId = Ids.New("ptn");
        var deals = Enumerable.Range(0, 12).Select(_ => Deal(partnerId, DealStatus.UnderReview, Submitted)).ToList();
        // Each event twice, all at once: redelivery racing the first delivery.
        await Task.WhenAll(deals.Concat(deals).Select(d => projection.ApplyAsync(Event(DealEvents.Submitted, d), CancellationToken.None)));
        (await CountersAsync(store, partnerId, "d|20260920")).Should().Equal(new Dictionary<string, decimal> { ["cloud-backup|registrationsSubmitted"] = 12 });
        (await CountersAsync(store, partnerId, KpiRows.Total)).Should().Equal(new Dictionary<string, decimal> { ["cloud-backup|registrationsSubmitted"] = 12 });
    }

    [Fact]
    public async Task The_recount_finds_the_live_buckets_right_and_repairs_a_damaged_one()
    {
        var s = await TestStores.CreateAsync();
        var store = new TableKpiStore(s.Tables);
        var projection = new KpiProjection(store, s.Store, new Prm.Storage.Onboarding.TableApplicationStore(s.Tables, s.Writer, s.Clock, NullLogger<Prm.Storage.Onboarding.TableApplicationStore>.Instance), new Prm.Storage.Mdf.TableMdfStore(s.Tables, s.Writer, NullLogger<Prm.Storage.Mdf.TableMdfStore>.Instance), Utc);
        var partnerId = Ids.New("ptn");
        await projection.ApplyAsync(Event(DealEvents.Approved, Deal(partnerId, DealStatus.Approved, Submitted.AddHours(5))), CancellationToken.None);
        await projection.ApplyAsync(Event(DealEvents.Submitted, Deal(partnerId, DealStatus.UnderReview, Submitted)), CancellationToken.None);
        var before = await CountersAsync(store, partnerId, "m|202609");

        (await store.RecountAsync(partnerId, CancellationToken.None)).Should().Be((4, 0), "the day (submission and approval fall on one), month, year and all-time rows kept on write equal the sum of the contributions");

        await s.Tables.Analytics.UpsertEntityAsync(new TableEntity(partnerId, "m|202609") { ["Body"] = "{\"cloud-backup|registrationsSubmitted\":7}" }, TableUpdateMode.Replace);
        await s.Tables.Analytics.UpsertEntityAsync(new TableEntity(partnerId, "d|20200101") { ["Body"] = "{\"x|won\":1}" }, TableUpdateMode.Replace);
        (await store.RecountAsync(partnerId, CancellationToken.None)).Corrected.Should().Be(2);
        (await CountersAsync(store, partnerId, "m|202609")).Should().Equal(before);
        (await CountersAsync(store, partnerId, "d|20200101")).Should().BeEmpty();
        (await store.RecountAsync(partnerId, CancellationToken.None)).Corrected.Should().Be(0);
    }

    [Fact]
    public async Task An_intermediate_state_delivered_after_a_newer_one_with_the_same_numbers_changes_nothing()
    {
        var s = await TestStores.CreateAsync();
        var store = new TableKpiStore(s.Tables);
        var partnerId = Ids.New("ptn");
        KpiFact Fact(string metric) => new(metric, new DateOnly(2026, 9, 20), "cloud-backup", "deal_x", "");
        await store.ApplyAsync(partnerId, "deal_x", 1, [Fact(KpiMetrics.Submitted)], CancellationToken.None);
        await store.ApplyAsync(partnerId, "deal_x", 3, [Fact(KpiMetrics.Submitted)], CancellationToken.None); // newer, the same numbers
        await store.ApplyAsync(partnerId, "deal_x", 2, [Fact(KpiMetrics.Submitted), Fact(KpiMetrics.Lost)], CancellationToken.None); // late and older

        (await CountersAsync(store, partnerId, KpiRows.Total)).Should().Equal(new Dictionary<string, decimal> { ["cloud-backup|registrationsSubmitted"] = 1 });
    }

    [Fact]
    public async Task A_registration_reads_its_buckets_beside_its_contribution_and_counts_exactly_what_reading_after_it_counts()
    {
        var s = await TestStores.CreateAsync();
        var store = new TableKpiStore(s.Tables);
        KpiFact Fact(string metric, int day, string subject) => new(metric, new DateOnly(2026, 9, day), "cloud-backup", subject, "");
        // The critical path is timed: on a loaded machine a read can end before the next one was sent, so one round may show a third
        // step. A round per fresh partner (at most eight) until one shows two; a read that waits for another shows three in every round.
        // The round trips are exact in every round.
        string partnerId;
        var paths = new List<string>();
        do
        {
            partnerId = Ids.New("ptn");
            await store.ApplyAsync(partnerId, "deal_a", 1, [Fact(KpiMetrics.Submitted, 20, "deal_a")], CancellationToken.None, likelyChanged: true);
            var box = StorageCalls.BeginScope();
            await store.ApplyAsync(partnerId, "deal_b", 1, [Fact(KpiMetrics.Submitted, 21, "deal_b")], CancellationToken.None, likelyChanged: true);
            box.Value.Should().Be(6, "the contribution, the day, month, year and all-time buckets, then one transaction");
            if (box.CriticalPath == 2) break;
            paths.Add($"round {paths.Count + 1}: {box.CriticalPath} steps: " + string.Join("; ", box.Describe()));
        }
        while (paths.Count < 8);
        paths.Should().HaveCountLessThan(8, "the five reads go side by side (critical path 2) in at least one of eight rounds");

        // The stored facts touch a bucket the new ones do not (the day moved): it is read after the contribution and corrected too.
        await store.ApplyAsync(partnerId, "deal_b", 2, [Fact(KpiMetrics.Submitted, 22, "deal_b")], CancellationToken.None, likelyChanged: true);
        await store.ApplyAsync(partnerId, "deal_b", 2, [Fact(KpiMetrics.Submitted, 22, "deal_b")], CancellationToken.None, likelyChanged: true); // redelivered

        (await CountersAsync(store, partnerId, "d|20260921")).Should().BeEmpty();
        (await CountersAsync(store, partnerId, "d|20260922")).Should().Equal(new Dictionary<string, decimal> { ["cloud-backup|registrationsSubmitted"] = 1 });
        (await CountersAsync(store, partnerId, KpiRows.Total)).Should().Equal(new Dictionary<string, decimal> { ["cloud-backup|registrationsSubmitted"] = 2 });
        (await store.RecountAsync(partnerId, CancellationToken.None)).Corrected.Should().Be(0, "the buckets equal the sum of the contributions");
    }

    [Fact]
    public async Task A_first_submission_on_buckets_this_process_knows_is_one_transaction_and_a_stale_guess_or_a_redelivery_still_counts_once()
    {
        var s = await TestStores.CreateAsync();
        var store = new TableKpiStore(s.Tables);
        var other = new TableKpiStore(s.Tables); // another instance: it moves the buckets behind the first one's back
        var partnerId = Ids.New("ptn");
        KpiFact Fact(string subject) => new(KpiMetrics.Submitted, new DateOnly(2026, 9, 20), "cloud-backup", subject, "");
        async Task<int> Apply(TableKpiStore on, string subject)
        {
            var box = StorageCalls.BeginScope();
            await on.ApplyAsync(partnerId, subject, 1, [Fact(subject)], CancellationToken.None, likelyChanged: true, likelyNew: true);
            return box.Value;
        }

        (await Apply(store, "deal_a")).Should().Be(6, "nothing known yet: the contribution and the four buckets are read, then one transaction");
        (await Apply(store, "deal_b")).Should().Be(1, "the buckets as this store wrote them, the contribution inserted: one transaction, no read");
        (await Apply(other, "deal_c")).Should().Be(6);
        (await Apply(store, "deal_d")).Should().Be(1 + 6, "the remembered buckets are stale: the transaction is refused, then read and written as usual");
        (await Apply(store, "deal_d")).Should().Be(1 + 5, "a redelivery: the insert is refused, the read finds the contribution and writes nothing");

        (await CountersAsync(store, partnerId, KpiRows.Total)).Should().Equal(new Dictionary<string, decimal> { ["cloud-backup|registrationsSubmitted"] = 4 });
        (await CountersAsync(store, partnerId, "d|20260920")).Should().Equal(new Dictionary<string, decimal> { ["cloud-backup|registrationsSubmitted"] = 4 });
        (await store.RecountAsync(partnerId, CancellationToken.None)).Corrected.Should().Be(0, "the buckets equal the sum of the contributions");

        await s.Tables.Analytics.DeleteEntityAsync(partnerId, "m|202609"); // an operator removed a bucket this store remembers
        (await Apply(store, "deal_e")).Should().Be(1 + 6, "the remembered bucket is gone: the transaction is refused (404), then read and written as usual");
        (await CountersAsync(store, partnerId, "m|202609")).Should().Equal(new Dictionary<string, decimal> { ["cloud-backup|registrationsSubmitted"] = 1 });
        (await CountersAsync(store, partnerId, KpiRows.Total)).Should().Equal(new Dictionary<string, decimal> { ["cloud-backup|registrationsSubmitted"] = 5 });
    }

    [Fact]
    public async Task A_decision_on_a_contribution_this_process_knows_is_one_transaction_and_a_stale_guess_a_redelivery_or_a_late_event_still_counts_once()
    {
        var s = await TestStores.CreateAsync();
        var store = new TableKpiStore(s.Tables);
        var other = new TableKpiStore(s.Tables); // another instance: it moves the buckets behind the first one's back
        var partnerId = Ids.New("ptn");
        var day = new DateOnly(2026, 9, 20);
        KpiFact Sub(string subject) => new(KpiMetrics.Submitted, day, "cloud-backup", subject, "");
        KpiFact App(string subject) => new(KpiMetrics.Approved, day, "cloud-backup", subject, "");
        async Task<int> Apply(TableKpiStore on, string subject, long version, params KpiFact[] facts)
        {
            var box = StorageCalls.BeginScope();
            await on.ApplyAsync(partnerId, subject, version, facts, CancellationToken.None, likelyChanged: true, likelyNew: version == 1);
            return box.Value;
        }
        Dictionary<string, decimal> Expect(int submitted, int approved) => new() { ["cloud-backup|registrationsSubmitted"] = submitted, ["cloud-backup|registrationsApproved"] = approved };

        (await Apply(store, "deal_a", 1, Sub("deal_a"))).Should().Be(6);
        (await Apply(store, "deal_a", 2, Sub("deal_a"), App("deal_a"))).Should().Be(1, "its contribution and buckets as this store wrote them: one transaction, no read");
        (await Apply(store, "deal_a", 2, Sub("deal_a"), App("deal_a"))).Should().Be(5, "a redelivery: the known row says nothing changes, so what is stored is read, and nothing written");
        (await Apply(store, "deal_a", 1, Sub("deal_a"))).Should().Be(1 + 5, "a late older event: its insert is refused, then what is stored is read, and nothing written");
        (await CountersAsync(store, partnerId, KpiRows.Total)).Should().Equal(Expect(1, 1));

        (await Apply(store, "deal_b", 1, Sub("deal_b"))).Should().Be(1);
        (await Apply(other, "deal_c", 1, Sub("deal_c"))).Should().Be(6);
        (await Apply(store, "deal_b", 2, Sub("deal_b"), App("deal_b"))).Should().Be(1 + 6, "the remembered buckets are stale: the transaction is refused, then read and written as usual");
        (await Apply(other, "deal_b", 3, Sub("deal_b"))).Should().Be(6, "the other instance does not know the contribution: read and written");
        (await Apply(store, "deal_b", 4, Sub("deal_b"), App("deal_b"))).Should().Be(6,
            "the contribution this store knows is stale and says nothing changes; a guess never decides to skip: read, and written");

        (await CountersAsync(store, partnerId, KpiRows.Total)).Should().Equal(Expect(3, 2));
        (await CountersAsync(store, partnerId, "d|20260920")).Should().Equal(Expect(3, 2));
        (await store.RecountAsync(partnerId, CancellationToken.None)).Corrected.Should().Be(0, "the buckets equal the sum of the contributions");
    }

    [Fact]
    public async Task A_registration_after_the_partners_first_one_leaves_the_funnel_contribution_untouched_and_the_first_ones_redelivery_does_not()
    {
        var s = await TestStores.CreateAsync();
        var store = new TableKpiStore(s.Tables);
        var projection = new KpiProjection(store, s.Store, new Prm.Storage.Onboarding.TableApplicationStore(s.Tables, s.Writer, s.Clock, NullLogger<Prm.Storage.Onboarding.TableApplicationStore>.Instance), new Prm.Storage.Mdf.TableMdfStore(s.Tables, s.Writer, NullLogger<Prm.Storage.Mdf.TableMdfStore>.Instance), Utc);
        var partner = Make.Partner() with { CreatedAt = Submitted.AddDays(-2), UpdatedAt = Submitted.AddDays(-2) };
        await s.CreateAsync(partner);
        var first = Deal(partner.Id, DealStatus.UnderReview, Submitted);
        await projection.ApplyAsync(Event(DealEvents.Submitted, first), CancellationToken.None);
        var funnelRow = "c|" + KpiProjection.SubjectKey(partner.Id);
        var funnel = (await s.Tables.Analytics.GetEntityAsync<TableEntity>(partner.Id, funnelRow)).Value;
        (await CountersAsync(store, partner.Id, KpiRows.Total)).Should().ContainKey("none|partnersFirstDeal");
        // The checklist stamps the first registration on the record (from the same event).
        var stored = (await s.Store.GetAsync(partner.Id, CancellationToken.None))!;
        await s.Store.UpdateAsync(stored.Value with { FirstDealRegisteredAt = Submitted }, stored.ETag, new Prm.Core.Partners.ChangeSet([], []), CancellationToken.None);

        var second = Deal(partner.Id, DealStatus.UnderReview, Submitted.AddHours(1)) with { SubmittedAt = Submitted.AddHours(1) };
        await projection.ApplyAsync(Event(DealEvents.Submitted, second), CancellationToken.None);
        (await s.Tables.Analytics.GetEntityAsync<TableEntity>(partner.Id, funnelRow)).Value.ETag.Should().Be(funnel.ETag, "a second registration cannot move the funnel");
        await projection.ApplyAsync(Event(DealEvents.Submitted, first), CancellationToken.None); // the first one's event, redelivered

        var total = await CountersAsync(store, partner.Id, KpiRows.Total);
        total["none|partnersFirstDeal"].Should().Be(1);
        total["cloud-backup|registrationsSubmitted"].Should().Be(2);
        (await store.RecountAsync(partner.Id, CancellationToken.None)).Corrected.Should().Be(0);
    }
}
