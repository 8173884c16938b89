using Microsoft.Extensions.Logging.Abstractions;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Outbox;
using Prm.Core.Tiers;
using Prm.Storage.Deals;
using Prm.Storage.Tiers;

namespace Prm.Storage.Tests;

/// <summary>The counters the tier evaluation reads are kept on write: month buckets of won value and approvals, and the certification counters.</summary>
public sealed class TierCounterTests
{
    private static readonly DateTimeOffset Approved = new(2026, 9, 20, 10, 0, 0, TimeSpan.Zero);

    private static Deal Deal(string partnerId, DealStatus status, DateTimeOffset updated, DealOutcome? outcome = null, string currency = "EUR") => new()
    {
        Id = DealIds.New(partnerId, Approved),
        RegistrationNumber = DealIds.RegistrationNumber(Approved),
        PartnerId = partnerId,
        PartnerName = "P",
        SubmittedBy = "usr_x",
        SubmittedByName = "X",
        SubmittedByEmail = "x@p.example",
        Status = status,
        Customer = new DealCustomer("Acme", "acme.example", "DE", null, null, "acme", ["t-acme"]),
        Products = ["cloud-backup"],
        EstimatedValue = new Money(10_000m, currency),
        ExpectedCloseDate = new DateOnly(2026, 10, 30),
        CreatedAt = Approved,
        SubmittedAt = Approved,
        ApprovedAt = Approved,
        Conflict = new DealConflict("none", 0, [], [], false, true),
        UpdatedAt = updated,
        Outcome = outcome,
    };

    private static IntegrationEvent Event(string type, Deal d) => DealEvents.Create(type, d, d.UpdatedAt);

    [Fact]
    public async Task Won_value_goes_to_its_close_month_and_currency_approvals_to_their_month_and_a_redelivery_or_an_older_event_changes_nothing()
    {
        var s = await TestStores.CreateAsync();
        var projection = new DealProjection(s.Tables, NullLogger<DealProjection>.Instance);
        var partnerId = Ids.New("ptn");
        var approved = Deal(partnerId, DealStatus.Approved, Approved);
        Deal Same(Deal d) => d with { Id = approved.Id };
        var won = Same(Deal(partnerId, DealStatus.Won, Approved.AddDays(40), new DealOutcome("won", new Money(12_345.67m, "USD"), new DateOnly(2026, 10, 28), null, "X", Approved.AddDays(40)), "USD"));
        await projection.ApplyAsync(Event(DealEvents.Approved, approved), CancellationToken.None);
        await projection.ApplyAsync(Event(DealEvents.Won, won), CancellationToken.None);
        await projection.ApplyAsync(Event(DealEvents.Won, won), CancellationToken.None);
        await projection.ApplyAsync(Event(DealEvents.Approved, approved), CancellationToken.None); // late: older than the won event

        var stats = await s.Deals.StatsAsync(partnerId, CancellationToken.None);
        stats.ApprovedByMonth.Should().Equal(new Dictionary<string, int> { ["2026-09"] = 1 });
        stats.WonByMonth!.Keys.Should().Equal("2026-10");
        stats.WonByMonth["2026-10"].Should().Equal(new Dictionary<string, decimal> { ["USD"] = 12_345.67m });

        // Reported lost afterwards: the won value leaves its bucket; the approval stays.
        var lost = Same(Deal(partnerId, DealStatus.Lost, Approved.AddDays(50), new DealOutcome("lost", null, null, "budget cut", "X", Approved.AddDays(50)), "USD"));
        await projection.ApplyAsync(Event(DealEvents.Lost, lost), CancellationToken.None);
        stats = await s.Deals.StatsAsync(partnerId, CancellationToken.None);
        stats.WonByMonth.Should().BeEmpty();
        stats.ApprovedByMonth.Should().Equal(new Dictionary<string, int> { ["2026-09"] = 1 });
    }

    [Fact]
    public async Task Concurrent_certification_events_of_one_partner_all_land_in_its_counters()
    {
        var s = await TestStores.CreateAsync();
        var store = new TableTierStore(s.Tables, s.Writer, s.Store);
        var partnerId = Ids.New("ptn");
        await Parallel.ForEachAsync(Enumerable.Range(0, 20), new ParallelOptions { MaxDegreeOfParallelism = 20 }, async (i, ct) =>
        {
            var award = new Prm.Core.Training.TrainingEvents.AwardData($"crt_{i}", "CERT", $"usr_{i % 7}", "P", "def", "C", "sales", "associate", Approved, Approved.AddYears(2), Approved.AddYears(2), "Active", null);
            await ReadDecideCommit.RunAsync(async _ =>
            {
                var found = await store.GetCertificationsAsync(partnerId, ct);
                var next = CertificationFactsRules.Apply(found?.Value ?? new CertificationFacts(), award, Approved.AddMinutes(i));
                if (next is not null) await store.SaveCertificationsAsync(partnerId, next, found?.ETag, ct);
            }, attempts: 50, ReadDecideCommit.Jitter(10), ct: ct);
        });
        var facts = (await store.GetCertificationsAsync(partnerId, CancellationToken.None))!.Value;
        facts.Awards.Should().HaveCount(20);
        facts.Awards.Values.Select(a => a.UserId).Distinct().Should().HaveCount(7);
    }

    [Fact]
    public async Task A_first_submission_on_counters_this_process_knows_reads_none_and_the_tier_evaluation_of_its_delivery_reads_what_was_committed()
    {
        var s = await TestStores.CreateAsync();
        var projection = new DealProjection(s.Tables, NullLogger<DealProjection>.Instance);
        var other = new DealProjection(s.Tables, NullLogger<DealProjection>.Instance); // another instance: it moves the counters behind the first one's back
        var partnerId = Ids.New("ptn");
        async Task<int> CounterReads(DealProjection on, Deal d)
        {
            var box = StorageCalls.BeginScope();
            await on.ApplyAsync(Event(DealEvents.Approved, d), CancellationToken.None);
            return box.Describe().Count(call => call.Contains("GET ", StringComparison.Ordinal) && call.Contains("/" + s.Tables.Deals.Name + "(", StringComparison.Ordinal));
        }
        var fourth = Deal(partnerId, DealStatus.Approved, Approved);

        (await CounterReads(projection, Deal(partnerId, DealStatus.Approved, Approved))).Should().Be(2, "nothing known yet: the counters and the contribution are read");
        (await CounterReads(projection, Deal(partnerId, DealStatus.Approved, Approved))).Should().Be(0, "the counters as this projection wrote them, the contribution inserted");
        (await CounterReads(other, Deal(partnerId, DealStatus.Approved, Approved))).Should().Be(2);
        (await CounterReads(projection, fourth)).Should().Be(2, "the remembered counters are stale: the transaction is refused, then they are read");
        (await CounterReads(projection, fourth)).Should().Be(2, "a redelivery: the insert is refused, the read finds the contribution and writes nothing");
        var stats = await s.Deals.StatsAsync(partnerId, CancellationToken.None);
        stats.Approved.Should().Be(4);
        stats.ApprovedByMonth.Should().Equal(new Dictionary<string, int> { ["2026-09"] = 4 });

        // Within one delivery, the tier evaluation's read of the counters is what the projection committed, without a round trip.
        DealStats noted;
        using (Prm.Storage.Outbox.DeliveryReads.Begin())
        {
            await projection.ApplyAsync(Event(DealEvents.Approved, Deal(partnerId, DealStatus.Approved, Approved)), CancellationToken.None);
            var box = StorageCalls.BeginScope();
            noted = await s.Deals.StatsAsync(partnerId, CancellationToken.None);
            box.Value.Should().Be(0);
        }
        noted.Approved.Should().Be(5);
        noted.Should().BeEquivalentTo(await s.Deals.StatsAsync(partnerId, CancellationToken.None), "the stored counters, read outside the delivery");
    }

    [Fact]
    public async Task A_decision_on_a_contribution_this_process_knows_reads_nothing_and_a_stale_guess_a_redelivery_or_a_late_event_counts_once()
    {
        var s = await TestStores.CreateAsync();
        var projection = new DealProjection(s.Tables, NullLogger<DealProjection>.Instance);
        var other = new DealProjection(s.Tables, NullLogger<DealProjection>.Instance); // another instance
        var partnerId = Ids.New("ptn");
        async Task<int> CounterReads(DealProjection on, string type, Deal d)
        {
            var box = StorageCalls.BeginScope();
            await on.ApplyAsync(Event(type, d), CancellationToken.None);
            return box.Describe().Count(call => call.Contains("GET ", StringComparison.Ordinal) && call.Contains("/" + s.Tables.Deals.Name + "(", StringComparison.Ordinal));
        }
        Deal Submitted(Deal d) => d with { Status = DealStatus.UnderReview, ApprovedAt = null, UpdatedAt = Approved };
        var a = Deal(partnerId, DealStatus.Approved, Approved.AddHours(1));
        var b = Deal(partnerId, DealStatus.Approved, Approved.AddHours(1));
        var won = a with { Status = DealStatus.Won, UpdatedAt = Approved.AddDays(40), Outcome = new DealOutcome("won", new Money(500m, "EUR"), new DateOnly(2026, 10, 28), null, "X", Approved.AddDays(40)) };

        (await CounterReads(projection, DealEvents.Submitted, Submitted(a))).Should().Be(2, "nothing known yet");
        (await CounterReads(projection, DealEvents.Approved, a)).Should().Be(0, "the decision on a contribution this projection wrote: replaced If-Match, no read");
        (await CounterReads(projection, DealEvents.Approved, a)).Should().Be(2, "a redelivery: the known row says nothing changes, so what is stored is read, and nothing written");
        (await CounterReads(projection, DealEvents.Submitted, Submitted(a))).Should().Be(2, "a late older event: read, and ignored");
        (await CounterReads(projection, DealEvents.Submitted, Submitted(b))).Should().Be(0);
        (await CounterReads(other, DealEvents.Approved, b)).Should().Be(2, "the other instance approves b: it reads, and moves the counters");
        (await CounterReads(projection, DealEvents.Won, won)).Should().Be(2, "the remembered counters are stale: the transaction is refused, then they are read");

        var stats = await s.Deals.StatsAsync(partnerId, CancellationToken.None);
        stats.Submitted.Should().Be(2);
        stats.Approved.Should().Be(2);
        stats.Won.Should().Be(1);
        stats.ApprovedByMonth.Should().Equal(new Dictionary<string, int> { ["2026-09"] = 2 });
        stats.WonByMonth!["2026-10"].Should().Equal(new Dictionary<string, decimal> { ["EUR"] = 500m });
    }

    [Fact]
    public async Task The_tier_record_and_the_certification_counters_are_read_together_in_one_round_trip()
    {
        var s = await TestStores.CreateAsync();
        var store = new TableTierStore(s.Tables, s.Writer, s.Store);
        var partnerId = Ids.New("ptn");
        var none = await store.GetRecordsAsync(partnerId, CancellationToken.None);
        none.State.Should().BeNull();
        none.Certifications.Should().BeNull();
        await store.SaveCertificationsAsync(partnerId, new CertificationFacts(), null, CancellationToken.None);
        await store.CommitAsync(new TierCommit(partnerId, PartnerTierState.New(partnerId), null, null, null, new Prm.Core.Partners.ChangeSet([], [])), CancellationToken.None);

        var box = StorageCalls.BeginScope();
        var (state, certs) = await store.GetRecordsAsync(partnerId, CancellationToken.None);
        box.Value.Should().Be(1);
        state!.Value.PartnerId.Should().Be(partnerId);
        state.ETag.Should().Be((await store.GetStateAsync(partnerId, CancellationToken.None))!.ETag);
        certs!.ETag.Should().Be((await store.GetCertificationsAsync(partnerId, CancellationToken.None))!.ETag);
    }
}
