using Prm.Core.Common;
using Prm.Core.Incentives;

namespace Prm.Core.Tests.Incentives;

/// <summary>Programs, deal facts and inputs for the ledger tests.</summary>
internal static class IncentiveTestPrograms
{
    public const string PartnerId = "ptn_0123456789abcdef0123456789abcdef";
    public const string ProgramId = "inp_0123456789abcdef0123456789abcdef";

    /// <summary>The slabs of the claimds.com example (scaled to EUR): 1 % to 5M, 1.5 % to 10M, 2 % above.</summary>
    public static readonly RebateSlab[] Slabs = [new(0m, 5_000_000m, 1m), new(5_000_000m, 10_000_000m, 1.5m), new(10_000_000m, null, 2m)];

    public static IncentiveProgram Rebate(RebateMethod method = RebateMethod.Retrospective, decimal? cap = null, int grace = 5, string currency = "EUR", int version = 1,
        IReadOnlyList<RebateSlab>? slabs = null, IncentiveEligibility? eligibility = null) => new()
    {
        Id = ProgramId, Version = version, Name = "Growth rebate", Type = "rebate", Period = "quarterly", Currency = currency, Eligibility = eligibility ?? IncentiveEligibility.All,
        Rebate = new RebateTerms(slabs ?? Slabs, Text.Camel(method), cap), CutoffGraceDays = grace, StartsOn = new DateOnly(2026, 1, 1), UpdatedBy = "Avery", UpdatedAt = DateTimeOffset.UnixEpoch,
    };

    public static IncentiveProgram Spif(SpifPayee payee = SpifPayee.RegisteringPerson, decimal minValue = 10_000m) => new()
    {
        Id = ProgramId, Version = 1, Name = "Backup SPIF", Type = "spif", Period = "monthly", Currency = "EUR", Eligibility = IncentiveEligibility.All,
        Spif = new SpifTerms(500m, ["cloud-backup"], minValue, new DateOnly(2026, 11, 1), new DateOnly(2026, 12, 31), Text.Camel(payee)), CutoffGraceDays = 3,
        StartsOn = new DateOnly(2026, 1, 1), UpdatedBy = "Avery", UpdatedAt = DateTimeOffset.UnixEpoch,
    };

    public static DealFacts Won(string dealId, decimal amount, DateOnly closeDate, DateTimeOffset recorded, string currency = "EUR", decimal? dealRate = null, decimal? programRate = null,
        string product = "cloud-backup", string tier = "gold", string region = "emea", string by = "usr_sam") =>
        new(dealId, "DR-" + dealId, "Customer " + dealId, "Won", new Money(amount, currency), closeDate, recorded, [product], by, "Sam " + by, tier, region, dealRate, programRate,
            closeDate.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture));

    public static DealFacts Lost(string dealId) => new(dealId, "DR-" + dealId, "Customer " + dealId, "Lost", null, null, null, ["cloud-backup"], "usr_sam", "Sam", "gold", "emea", null, null, null);

    public static IncentiveInput Deal(DealFacts facts, DateTimeOffset at, string? eventId = null, IReadOnlyList<string>? closing = null, int version = 1) =>
        new(InputKinds.Deal, "evt:" + (eventId ?? Guid.NewGuid().ToString("N")), at, version, "PrmFunctions", facts, closing ?? []);

    public static IncentiveInput Close(string period, DateTimeOffset at, int version = 1) => new(InputKinds.Close, "close:" + period, at, version, "PrmFunctions", Period: period);

    public static IncentiveInput Pay(string period, decimal amount, DateTimeOffset at, string payoutId = "pay_1") =>
        new(InputKinds.Paid, "paid:" + payoutId, at, 1, "Avery", Period: period, Amount: amount, Reason: "BANK-1");

    /// <summary>Applies the inputs in order from an empty ledger: the final state and every entry.</summary>
    public static (LedgerState State, List<IncentiveEntry> Entries) Fold(IncentiveProgram program, params IncentiveInput[] inputs) => Fold(v => program, program.Currency, inputs);

    public static (LedgerState State, List<IncentiveEntry> Entries) Fold(Func<int, IncentiveProgram> versions, string currency, params IncentiveInput[] inputs)
    {
        var state = LedgerState.Empty(PartnerId, ProgramId, currency);
        var entries = new List<IncentiveEntry>();
        foreach (var input in inputs)
        {
            var numbered = input with { Sequence = state.Sequence + 1 };
            var step = IncentiveLedgerRules.Apply(state, numbered, versions);
            entries.AddRange(step.Entries);
            state = IncentiveLedgerRules.After(state, step) with { Sequence = numbered.Sequence };
        }
        return (state, entries);
    }
}
