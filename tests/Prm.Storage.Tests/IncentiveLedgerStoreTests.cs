using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Deals;
using Prm.Core.Identity;
using Prm.Core.Incentives;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Tiers;
using Prm.Storage.Deals;
using Prm.Storage.Incentives;
using Prm.Storage.Tiers;

namespace Prm.Storage.Tests;

/// <summary>The incentive ledger on Azurite: concurrent accruals with redeliveries and a reversal, the close, a late reversal, and a recompute that matches.</summary>
public sealed class IncentiveLedgerStoreTests
{
    private static readonly Caller Admin = new("usr_admin", "admin@vendor.example", "Avery Admin", [AppRoles.Admin], null, null);

    private sealed record Harness(TestStores S, TableIncentiveStore Store, IncentivePrograms Programs, IncentiveLedgers Ledgers, IncentiveProjection Projection, IncentiveCloses Closes);

    private static async Task<Harness> StartAsync()
    {
        var s = await TestStores.CreateAsync();
        var options = new ProgramOptions { SettingsCacheSeconds = 0 };
        var store = new TableIncentiveStore(s.Tables, s.Writer);
        var fx = new FxRates(new TableTierStore(s.Tables, s.Writer, s.Store), options, s.Clock);
        var programs = new IncentivePrograms(store, new ProductLines(new TableProductLineStore(s.Tables), s.Clock, options), fx, options, s.Clock);
        var ledgers = new IncentiveLedgers(store, programs, TimeProvider.System);
        return new Harness(s, store, programs, ledgers, new IncentiveProjection(ledgers, programs, s.Store, fx), new IncentiveCloses(store, programs, ledgers, fx, TimeProvider.System));
    }

    /// <summary>A quarterly retrospective rebate in EUR from 2025 with 5 days of grace: 1 % to 50,000, 2 % above.</summary>
    private static IncentiveProgramRequest Program() => new("Storage rebate", "rebate", "quarterly", "EUR", null, null,
        new RebateInput([new SlabInput(0, 50_000, 1), new SlabInput(50_000, null, 2)], "retrospective", null), null, 5, null, "2025-01-01", null, null);

    private static Deal Deal(string partnerId, DealStatus status, Money? won, DateOnly? closeDate, DateTimeOffset at, string? id = null) => new()
    {
        Id = id ?? DealIds.New(partnerId, at),
        RegistrationNumber = DealIds.RegistrationNumber(at),
        PartnerId = partnerId,
        PartnerName = "P",
        SubmittedBy = "usr_sam",
        SubmittedByName = "Sam",
        SubmittedByEmail = "sam@p.example",
        Status = status,
        Customer = new DealCustomer("Acme " + Guid.NewGuid().ToString("N")[..6], "acme.example", "DE", null, null, "acme", ["t-acme"]),
        Products = ["cloud-backup"],
        EstimatedValue = new Money(10_000m, "EUR"),
        ExpectedCloseDate = new DateOnly(2025, 9, 30),
        CreatedAt = at,
        SubmittedAt = at,
        ApprovedAt = at,
        Conflict = new DealConflict("none", 0, [], [], false, true),
        UpdatedAt = at,
        Outcome = status == DealStatus.Won ? new DealOutcome("won", won, closeDate, null, "Sam", at) : status == DealStatus.Lost ? new DealOutcome("lost", null, null, "budget cut", "Elena", at) : null,
    };

    [Fact]
    public async Task Concurrent_accruals_with_redeliveries_and_a_reversal_close_and_a_recompute_reproduces_the_ledger_exactly()
    {
        var h = await StartAsync();
        var partner = Make.Partner(tier: PartnerTier.Gold);
        await h.S.CreateAsync(partner);
        var program = (await h.Programs.CreateAsync(Admin, Program(), CancellationToken.None)).Value;
        var recorded = new DateTimeOffset(2025, 9, 20, 12, 0, 0, TimeSpan.Zero);

        // 20 deals won in Q3 2025, each event delivered twice, all side by side: 20 accruals, none twice.
        var deals = Enumerable.Range(1, 20).Select(i => Deal(partner.Id, DealStatus.Won, new Money(1_000m * i + 0.05m, "EUR"), new DateOnly(2025, 9, i), recorded.AddMinutes(i))).ToList();
        var events = deals.Select(d => DealEvents.Create(DealEvents.Won, d, d.UpdatedAt)).ToList();
        await Parallel.ForEachAsync(events.Concat(events), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (e, ct) => await DeliverAsync(h, e, ct));

        var q3 = await EntriesAsync(h, partner.Id, program.Id, "2025-Q3");
        q3.Should().HaveCount(20);
        q3.Select(e => e.Sequence).Should().Equal(Enumerable.Range(1, 20).Select(i => (long)i));
        q3.Select(e => e.Deal!.DealId).Should().OnlyHaveUniqueItems();
        var basis = deals.Sum(d => d.Outcome!.Amount!.Value.Amount);
        var balance = await BalanceAsync(h, partner.Id, program.Id, "2025-Q3");
        balance.Basis.Should().Be(basis);
        balance.Accrued.Should().Be(q3.Sum(e => e.Amount.Amount));

        // One of them is lost in the quarter: its accrual goes back, exactly.
        var lostDeal = deals[4] with { Status = DealStatus.Lost, Outcome = new DealOutcome("lost", null, null, "budget cut", "Elena", recorded.AddDays(1)), UpdatedAt = recorded.AddDays(1) };
        var lost = DealEvents.Create(DealEvents.Lost, lostDeal, lostDeal.UpdatedAt);
        await h.Projection.ApplyAsync(lost, CancellationToken.None);
        await h.Projection.ApplyAsync(lost, CancellationToken.None);
        q3 = await EntriesAsync(h, partner.Id, program.Id, "2025-Q3");
        var reversal = q3.Single(e => e.Kind == EntryKinds.Reversed);
        reversal.Amount.Amount.Should().Be(-q3.Single(e => e.Kind == EntryKinds.Accrued && e.Deal!.DealId == lostDeal.Id).Amount.Amount);

        // Two closes side by side: the period closes once, with one rerate to the final 2 % on what counts.
        var closes = await Task.WhenAll(h.Closes.CloseAsync(program.Id, "2025-Q3", CancellationToken.None), h.Closes.CloseAsync(program.Id, "2025-Q3", CancellationToken.None));
        closes.Should().OnlyContain(c => c.Closed);
        var counted = basis - deals[4].Outcome!.Amount!.Value.Amount;
        balance = await BalanceAsync(h, partner.Id, program.Id, "2025-Q3");
        balance.Closed.Should().BeTrue();
        balance.Basis.Should().Be(counted);
        balance.Final.Should().Be(new Money(counted * 2m / 100m, "EUR").Round().Amount);
        (await EntriesAsync(h, partner.Id, program.Id, "2025-Q3")).Count(e => e.Kind == EntryKinds.Rerated).Should().Be(1);
        (await EntriesAsync(h, partner.Id, program.Id, "2025-Q3")).Sum(e => e.Amount.Amount).Should().Be(balance.Final!.Value, "the entries add up to the final amount");
        (await h.Store.GetPeriodAsync(program.Id, "2025-Q3", CancellationToken.None))!.Value.Status.Should().Be(nameof(PeriodStatus.Closed));

        // A deal lost after the close: a negative entry of the next open period; the closed period stays final.
        var lateLost = deals[9] with { Status = DealStatus.Lost, Outcome = new DealOutcome("lost", null, null, "returned", "Elena", recorded.AddDays(30)), UpdatedAt = recorded.AddDays(30) };
        await h.Projection.ApplyAsync(DealEvents.Create(DealEvents.Lost, lateLost, lateLost.UpdatedAt), CancellationToken.None);
        var q4 = await EntriesAsync(h, partner.Id, program.Id, "2025-Q4");
        q4.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Kind = EntryKinds.Reversed, OriginPeriod = "2025-Q3" });
        q4[0].Amount.Amount.Should().Be(-new Money(deals[9].Outcome!.Amount!.Value.Amount * 2m / 100m, "EUR").Round().Amount);
        (await BalanceAsync(h, partner.Id, program.Id, "2025-Q3")).Final.Should().Be(balance.Final);

        // The ledger is exactly what its inputs make: recomputed from the source log and the program version, it matches.
        var recompute = await h.Ledgers.RecomputeAsync(partner.Id, program.Id, CancellationToken.None);
        recompute.Inputs.Should().Be(20 + 1 + 1 + 1, "20 wins, a loss, the close, a late loss — redeliveries and the second close added nothing");
        recompute.Recomputed.Should().Equal(recompute.Stored);
        recompute.RecomputedBalances.Should().Equal(recompute.StoredBalances);
        recompute.Matches.Should().BeTrue();
    }

    [Fact]
    public async Task A_payment_is_one_transaction_with_the_payout_and_a_second_payment_finds_it_applied()
    {
        var h = await StartAsync();
        var partner = Make.Partner(tier: PartnerTier.Gold);
        await h.S.CreateAsync(partner);
        var program = (await h.Programs.CreateAsync(Admin, Program(), CancellationToken.None)).Value;
        var recorded = new DateTimeOffset(2025, 8, 1, 12, 0, 0, TimeSpan.Zero);
        var deal = Deal(partner.Id, DealStatus.Won, new Money(60_000m, "EUR"), new DateOnly(2025, 8, 1), recorded);
        await h.Projection.ApplyAsync(DealEvents.Create(DealEvents.Won, deal, recorded), CancellationToken.None);
        await h.Closes.CloseAsync(program.Id, "2025-Q3", CancellationToken.None);
        var payout = new Payout
        {
            Id = Ids.New("pay"), PartnerId = partner.Id, ProgramId = program.Id, ProgramName = program.Name, Period = "2025-Q3", Amount = new Money(1_200m, "EUR"),
            Status = nameof(PayoutStatus.Approved), CreatedByName = "Elena", CreatedAt = recorded, UpdatedAt = recorded,
        };
        var etag = await h.Store.SavePayoutAsync(payout, null, new ChangeSet([], []), CancellationToken.None);
        Task<LedgerStep?> Pay() => h.Ledgers.RunAsync(partner.Id, program.Id, "paid:" + payout.Id, null,
            view => Task.FromResult<IncentiveInput?>(new IncentiveInput(InputKinds.Paid, "paid:" + payout.Id, view.Now, view.Program.Version, "Avery", Period: "2025-Q3", Amount: 1_200m, Reason: "BANK-7")),
            (view, _) => new LedgerExtras(new Versioned<Payout>(payout with { Status = nameof(PayoutStatus.Paid), PaymentReference = "BANK-7" }, etag)), CancellationToken.None);
        var both = await Task.WhenAll(Pay(), Pay());
        both.Count(s => s is not null).Should().Be(1, "the key row and the payout's ETag let one payment through");
        (await h.Store.GetPayoutAsync(partner.Id, payout.Id, CancellationToken.None))!.Value.Status.Should().Be(nameof(PayoutStatus.Paid));
        var b = await BalanceAsync(h, partner.Id, program.Id, "2025-Q3");
        b.Paid.Should().Be(1_200m);
        b.Payable.Should().Be(0m);
        (await EntriesAsync(h, partner.Id, program.Id, "2025-Q3")).Sum(e => e.Amount.Amount).Should().Be(0m, "the entries add up to the payable balance");
        (await h.Ledgers.RecomputeAsync(partner.Id, program.Id, CancellationToken.None)).Matches.Should().BeTrue();
    }

    /// <summary>Delivers an event as the outbox does: again after a transient failure (a ledger contended past its retries).</summary>
    private static async Task DeliverAsync(Harness h, IntegrationEvent e, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await h.Projection.ApplyAsync(e, ct);
                return;
            }
            catch (TransientDeliveryException) when (attempt < 20)
            {
                await Task.Delay(Random.Shared.Next(10, 100), ct);
            }
        }
    }

    private static async Task<List<IncentiveEntry>> EntriesAsync(Harness h, string partnerId, string programId, string period) =>
        (await h.Store.EntriesAsync(partnerId, programId, period, CancellationToken.None)).ToList();

    private static async Task<PeriodBalance> BalanceAsync(Harness h, string partnerId, string programId, string period) =>
        (await h.Store.BalancesAsync(partnerId, programId, CancellationToken.None)).Single(b => b.Balance.Period == period).Balance;
}
