using Prm.Core.Common;
using Prm.Core.Mdf;

namespace Prm.Core.Tests.Mdf;

public class MdfBudgetLedgerTests
{
    private static readonly DateTimeOffset At = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private static Money Eur(decimal amount) => new(amount, "EUR");

    private static LedgerEntry Entry(BudgetLedger ledger, LedgerEntryKind kind, decimal amount, string subject, decimal? basis = null) =>
        new($"e{ledger.NextSequence}", ledger.NextSequence, kind, Eur(amount), subject, null, At, "user-1", basis is { } b ? Eur(b) : null);

    private static BudgetLedger Funded(decimal allocation)
    {
        var ledger = new BudgetLedger("EUR");
        ledger.Append(Entry(ledger, LedgerEntryKind.Allocation, allocation, "budget-1"));
        return ledger;
    }

    private static void ShouldBe(BudgetBalance b, decimal allocated, decimal available, decimal pending, decimal approved, decimal claimed, decimal paid)
    {
        new[] { b.Allocated.Amount, b.Available.Amount, b.Pending.Amount, b.Approved.Amount, b.Claimed.Amount, b.Paid.Amount }
            .Should().Equal(allocated, available, pending, approved, claimed, paid);
        b.IsConsistent.Should().BeTrue();
    }

    [Fact]
    public void A_request_goes_through_approval_claim_and_payout_and_the_rest_is_released()
    {
        var ledger = Funded(10_000m);
        ledger.Append(Entry(ledger, LedgerEntryKind.RequestSubmitted, 4_000m, "req-1"));
        ShouldBe(ledger.Balance, 10_000m, 6_000m, 4_000m, 0, 0, 0);

        ledger.Append(Entry(ledger, LedgerEntryKind.RequestApproved, 3_000m, "req-1", basis: 4_000m));
        ShouldBe(ledger.Balance, 10_000m, 7_000m, 0, 3_000m, 0, 0);

        ledger.Append(Entry(ledger, LedgerEntryKind.ClaimSubmitted, 2_800m, "claim-1"));
        ShouldBe(ledger.Balance, 10_000m, 7_000m, 0, 200m, 2_800m, 0);

        ledger.Append(Entry(ledger, LedgerEntryKind.ClaimApproved, 2_500m, "claim-1", basis: 2_800m));
        ShouldBe(ledger.Balance, 10_000m, 7_000m, 0, 500m, 2_500m, 0);

        ledger.Append(Entry(ledger, LedgerEntryKind.Paid, 2_500m, "claim-1"));
        ShouldBe(ledger.Balance, 10_000m, 7_000m, 0, 500m, 0, 2_500m);

        ledger.Append(Entry(ledger, LedgerEntryKind.Released, 500m, "req-1"));
        ShouldBe(ledger.Balance, 10_000m, 7_500m, 0, 0, 0, 2_500m);

        BudgetLedger.Replay("EUR", ledger.Entries).Should().Be(ledger.Balance);
        ledger.Balance.Sequence.Should().Be(7);
    }

    [Theory]
    [InlineData(LedgerEntryKind.RequestWithdrawn)]
    [InlineData(LedgerEntryKind.RequestRejected)]
    [InlineData(LedgerEntryKind.RequestCancelled)]
    public void Withdrawn_rejected_or_cancelled_requests_return_their_funds(LedgerEntryKind kind)
    {
        var ledger = Funded(1_000m);
        ledger.Append(Entry(ledger, LedgerEntryKind.RequestSubmitted, 600m, "req-1"));

        ledger.Append(Entry(ledger, kind, 600m, "req-1"));

        ShouldBe(ledger.Balance, 1_000m, 1_000m, 0, 0, 0, 0);
    }

    [Theory]
    [InlineData(LedgerEntryKind.ClaimReturned)]
    [InlineData(LedgerEntryKind.ClaimRejected)]
    public void A_returned_or_rejected_claim_goes_back_to_the_reservation(LedgerEntryKind kind)
    {
        var ledger = Funded(1_000m);
        ledger.Append(Entry(ledger, LedgerEntryKind.RequestSubmitted, 600m, "req-1"));
        ledger.Append(Entry(ledger, LedgerEntryKind.RequestApproved, 600m, "req-1", basis: 600m));
        ledger.Append(Entry(ledger, LedgerEntryKind.ClaimSubmitted, 600m, "claim-1"));

        ledger.Append(Entry(ledger, kind, 600m, "claim-1"));

        ShouldBe(ledger.Balance, 1_000m, 400m, 0, 600m, 0, 0);
    }

    [Fact]
    public void A_request_above_the_available_balance_is_refused_naming_the_balance()
    {
        var ledger = Funded(1_000m);
        ledger.Append(Entry(ledger, LedgerEntryKind.RequestSubmitted, 750.50m, "req-1"));
        var before = ledger.Balance;

        var act = () => ledger.Append(Entry(ledger, LedgerEntryKind.RequestSubmitted, 300m, "req-2"));

        var error = act.Should().Throw<InsufficientFundsException>().Which;
        error.Available.Should().Be(Eur(249.50m));
        error.Requested.Should().Be(Eur(300m));
        error.Message.Should().Contain("249.50 EUR available").And.Contain("300.00 EUR");
        ledger.Balance.Should().Be(before);
        ledger.Entries.Should().HaveCount(2);
        ledger.Contains(LedgerEntryKind.RequestSubmitted, "req-2").Should().BeFalse();
    }

    [Fact]
    public void A_request_of_exactly_the_available_balance_fits()
    {
        var ledger = Funded(1_000m);

        ledger.Append(Entry(ledger, LedgerEntryKind.RequestSubmitted, 1_000m, "req-1"));

        ShouldBe(ledger.Balance, 1_000m, 0, 1_000m, 0, 0, 0);
    }

    [Fact]
    public void A_negative_adjustment_may_not_take_available_below_zero()
    {
        var ledger = Funded(1_000m);
        ledger.Append(Entry(ledger, LedgerEntryKind.RequestSubmitted, 800m, "req-1"));

        var act = () => ledger.Append(Entry(ledger, LedgerEntryKind.Adjustment, -300m, "adj-1"));

        act.Should().Throw<InsufficientFundsException>().Which.Available.Should().Be(Eur(200m));
        ledger.Append(Entry(ledger, LedgerEntryKind.Adjustment, -200m, "adj-2"));
        ShouldBe(ledger.Balance, 800m, 0, 800m, 0, 0, 0);
        ledger.Append(Entry(ledger, LedgerEntryKind.Adjustment, 50m, "adj-3"));
        ShouldBe(ledger.Balance, 850m, 50m, 800m, 0, 0, 0);
    }

    [Fact]
    public void Each_kind_and_subject_applies_once_so_a_release_returns_money_exactly_once()
    {
        var ledger = Funded(1_000m);
        ledger.Append(Entry(ledger, LedgerEntryKind.RequestSubmitted, 500m, "req-1"));
        ledger.Append(Entry(ledger, LedgerEntryKind.RequestApproved, 500m, "req-1", basis: 500m));
        ledger.Append(Entry(ledger, LedgerEntryKind.Released, 200m, "req-1"));
        var before = ledger.Balance;

        var act = () => ledger.Append(Entry(ledger, LedgerEntryKind.Released, 200m, "req-1"));

        act.Should().Throw<DuplicateLedgerEntryException>().Which.Key.Should().Be("Released:req-1");
        ledger.Balance.Should().Be(before);
        ledger.Contains("Released:req-1").Should().BeTrue();
    }

    [Fact]
    public void The_idempotency_key_is_the_kind_and_the_subject()
    {
        LedgerEntry.KeyFor(LedgerEntryKind.Released, "req-42").Should().Be("Released:req-42");
        new LedgerEntry("e1", 1, LedgerEntryKind.ClaimSubmitted, Eur(1m), "claim-7/2", null, At, "u").Key.Should().Be("ClaimSubmitted:claim-7/2");
        LedgerEntry.KeyFor(LedgerEntryKind.Paid, "x").Should().NotBe(LedgerEntry.KeyFor(LedgerEntryKind.Released, "x"));
    }

    [Fact]
    public void Replay_refuses_a_history_that_applies_a_key_twice()
    {
        var ledger = Funded(1_000m);
        var first = Entry(ledger, LedgerEntryKind.RequestSubmitted, 100m, "req-1");
        ledger.Append(first);
        var history = ledger.Entries.Append(first with { Id = "e3", Sequence = 3 }).ToList();

        var act = () => BudgetLedger.Replay("EUR", history);

        act.Should().Throw<DuplicateLedgerEntryException>();
    }

    [Fact]
    public void Entries_must_follow_each_other_without_gaps()
    {
        var ledger = Funded(1_000m);
        var gap = Entry(ledger, LedgerEntryKind.RequestSubmitted, 100m, "req-1") with { Sequence = 5 };

        var act = () => ledger.Append(gap);

        act.Should().Throw<LedgerRuleException>().Which.Message.Should().Contain("next one is 2");
    }

    [Fact]
    public void Entries_in_another_currency_or_finer_than_the_minor_unit_or_not_positive_are_refused()
    {
        var ledger = Funded(1_000m);
        var usd = Entry(ledger, LedgerEntryKind.RequestSubmitted, 100m, "req-1") with { Amount = new Money(100m, "USD") };
        var fine = Entry(ledger, LedgerEntryKind.RequestSubmitted, 100.005m, "req-1");
        var zero = Entry(ledger, LedgerEntryKind.RequestSubmitted, 0m, "req-1");
        var zeroAdjustment = Entry(ledger, LedgerEntryKind.Adjustment, 0m, "adj-1");
        var noSubject = Entry(ledger, LedgerEntryKind.RequestSubmitted, 1m, " ");

        foreach (var entry in new[] { usd, fine, zero, zeroAdjustment, noSubject })
        {
            var act = () => ledger.Append(entry);
            act.Should().Throw<LedgerRuleException>();
        }
        ShouldBe(ledger.Balance, 1_000m, 1_000m, 0, 0, 0, 0);
    }

    [Fact]
    public void Movements_out_of_a_bucket_larger_than_the_bucket_are_refused()
    {
        var ledger = Funded(1_000m);
        ledger.Append(Entry(ledger, LedgerEntryKind.RequestSubmitted, 300m, "req-1"));

        new Func<BudgetBalance>[]
        {
            () => ledger.Append(Entry(ledger, LedgerEntryKind.RequestWithdrawn, 301m, "req-1")),
            () => ledger.Append(Entry(ledger, LedgerEntryKind.RequestApproved, 300m, "req-1", basis: 400m)),
            () => ledger.Append(Entry(ledger, LedgerEntryKind.RequestApproved, 301m, "req-1", basis: 300m)),
            () => ledger.Append(Entry(ledger, LedgerEntryKind.RequestApproved, 300m, "req-1")),
            () => ledger.Append(Entry(ledger, LedgerEntryKind.ClaimSubmitted, 1m, "claim-1")),
            () => ledger.Append(Entry(ledger, LedgerEntryKind.Paid, 1m, "claim-1")),
            () => ledger.Append(Entry(ledger, LedgerEntryKind.Released, 1m, "req-1")),
            () => ledger.Append(Entry(ledger, LedgerEntryKind.ClaimApproved, 1m, "claim-1")),
        }.Should().AllSatisfy(act => act.Should().Throw<LedgerRuleException>());

        ShouldBe(ledger.Balance, 1_000m, 700m, 300m, 0, 0, 0);
    }

    [Fact]
    public void Apply_on_the_balance_is_pure()
    {
        var empty = BudgetBalance.Empty("EUR");
        var entry = new LedgerEntry("e1", 1, LedgerEntryKind.Allocation, Eur(10m), "budget-1", "Q4 plan", At, "admin");

        var next = empty.Apply(entry);

        empty.Allocated.Amount.Should().Be(0);
        next.Available.Should().Be(Eur(10m));
        next.Sequence.Should().Be(1);
    }

    /// <summary>Keeps, per request, what is pending and reserved, so the generator mostly makes valid moves; it also tries invalid ones on purpose.</summary>
    private sealed class RequestState
    {
        public decimal Pending;
        public decimal Approved;
        public decimal Claimed;
        public int Claims;
    }

    [Fact]
    public void The_invariant_holds_after_each_of_1000_seeded_random_operations_and_replay_matches()
    {
        var random = new Random(20260301);
        var ledger = Funded(50_000m);
        var requests = new Dictionary<string, RequestState>();
        var applied = 0;
        var refused = 0;
        decimal Amount(decimal max) => Math.Max(0.01m, Math.Round((decimal)random.NextDouble() * max, 2, MidpointRounding.ToEven));

        for (var i = 0; i < 1000; i++)
        {
            var before = ledger.Balance;
            var id = "req-" + random.Next(0, Math.Max(1, requests.Count + 2));
            requests.TryGetValue(id, out var state);
            var claimId = state is null ? id + "/c0" : $"{id}/c{state.Claims}";
            var op = random.Next(0, 11);
            Action<RequestState>? onSuccess = null;
            LedgerEntry entry;
            switch (op)
            {
                case 0:
                    entry = Entry(ledger, LedgerEntryKind.Adjustment, random.Next(2) == 0 ? Amount(2_000m) : -Amount(2_000m), "adj-" + i);
                    break;
                case 1 or 2:
                    var ask = Amount(8_000m);
                    entry = Entry(ledger, LedgerEntryKind.RequestSubmitted, ask, id);
                    onSuccess = _ => requests[id] = new RequestState { Pending = ask };
                    break;
                case 3:
                    entry = Entry(ledger, (LedgerEntryKind)random.Next((int)LedgerEntryKind.RequestWithdrawn, (int)LedgerEntryKind.RequestCancelled + 1), state?.Pending ?? Amount(100m), id);
                    onSuccess = s => s.Pending = 0;
                    break;
                case 4 or 5:
                    var requested = state?.Pending ?? Amount(100m);
                    var approve = Math.Min(requested, Amount(requested * 1.1m));
                    entry = Entry(ledger, LedgerEntryKind.RequestApproved, approve, id, basis: requested);
                    onSuccess = s => { s.Pending = 0; s.Approved = approve; };
                    break;
                case 6:
                    var claim = Amount((state?.Approved ?? 100m) * 1.05m);
                    entry = Entry(ledger, LedgerEntryKind.ClaimSubmitted, claim, claimId);
                    onSuccess = s => { s.Approved -= claim; s.Claimed = claim; };
                    break;
                case 7:
                    var back = state?.Claimed ?? Amount(100m);
                    entry = Entry(ledger, random.Next(2) == 0 ? LedgerEntryKind.ClaimReturned : LedgerEntryKind.ClaimRejected, back, claimId);
                    onSuccess = s => { s.Approved += back; s.Claimed = 0; s.Claims++; };
                    break;
                case 8:
                    var claimed = state?.Claimed ?? Amount(100m);
                    var granted = Math.Min(claimed, Amount(claimed * 1.1m));
                    entry = Entry(ledger, LedgerEntryKind.ClaimApproved, granted, claimId, basis: claimed);
                    onSuccess = s => { s.Approved += claimed - granted; s.Claimed = granted; };
                    break;
                case 9:
                    entry = Entry(ledger, LedgerEntryKind.Paid, state?.Claimed ?? Amount(100m), claimId);
                    onSuccess = s => { s.Claimed = 0; s.Claims++; };
                    break;
                default:
                    entry = Entry(ledger, LedgerEntryKind.Released, state?.Approved ?? Amount(100m), id);
                    onSuccess = s => s.Approved = 0;
                    break;
            }

            try
            {
                ledger.Append(entry);
                applied++;
                if (onSuccess is not null) onSuccess(requests.TryGetValue(id, out var s) ? s : new RequestState());
            }
            catch (BudgetLedgerException)
            {
                refused++;
                ledger.Balance.Should().Be(before, "a refused entry changes nothing");
            }

            var b = ledger.Balance;
            b.IsConsistent.Should().BeTrue($"operation {i} ({entry.Kind} {entry.Amount} {entry.Subject}) left {b.Describe()}");
            (b.Available.Amount + b.Pending.Amount + b.Approved.Amount + b.Claimed.Amount + b.Paid.Amount).Should().Be(b.Allocated.Amount);
            b.Available.Amount.Should().BeGreaterThanOrEqualTo(0);
            BudgetLedger.Replay("EUR", ledger.Entries).Should().Be(b);
        }

        applied.Should().BeGreaterThan(250, "the sequence exercises the happy paths");
        refused.Should().BeGreaterThan(50, "the sequence exercises the refusals");
        ledger.Entries.Select(e => e.Key).Should().OnlyHaveUniqueItems();
        ledger.Entries.Select(e => e.Kind).Distinct().Should().HaveCount(Enum.GetValues<LedgerEntryKind>().Length, "every kind occurs");
    }
}
