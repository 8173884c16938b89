using System.Globalization;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Mdf;

namespace Prm.Core.Plans;

/// <summary>
/// The rules of plans in one place: the content's input rules (every refusal names its field), the on-track rule, the diff between
/// versions and which changes a locked plan takes without a new version.
/// </summary>
public static class PlanRules
{
    public const int MaxObjectives = 20;
    public const int MaxInitiatives = 50;
    /// <summary>The most comments a plan keeps: with the reviews, values and content the plan stays one table row (at most 480,000 characters).</summary>
    public const int MaxComments = 120;
    public const int MaxText = 200;
    public const int MaxCommentLength = 2000;
    public const int MaxNotesLength = 4000;
    public const int MaxDecisions = 10;
    public const int MaxShortText = 500;

    /// <summary>The highest quarterly target (money of a revenue objective, or a count).</summary>
    public const decimal MaxTarget = 1_000_000_000_000m;

    /// <summary>The on-track tolerance: 10 percentage points of the target.</summary>
    public const decimal Tolerance = 0.10m;

    /// <summary>
    /// The on-track rule: an objective is on track in a quarter when actual >= target x (elapsed share of the quarter - 10 percentage
    /// points); otherwise off track. Before the quarter begins (elapsed share 0) there is no verdict; a target of 0 is always met.
    /// </summary>
    public static TrackStatus Track(decimal actual, decimal target, decimal elapsedShare)
    {
        if (elapsedShare <= 0) return TrackStatus.NotStarted;
        return actual >= Expected(target, elapsedShare) ? TrackStatus.OnTrack : TrackStatus.OffTrack;
    }

    /// <summary>What the rule expects by now: target x (elapsed share - 10 points), never below 0.</summary>
    public static decimal Expected(decimal target, decimal elapsedShare) =>
        Math.Max(0m, Math.Round(target * (Math.Min(1m, elapsedShare) - Tolerance), 4, MidpointRounding.AwayFromZero));

    /// <summary>The share (0..1, 4 decimals) of the quarter's days that have begun by <paramref name="today"/> (today counts).</summary>
    public static decimal ElapsedShare(FiscalPeriod quarter, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(quarter);
        if (today < quarter.Start) return 0m;
        if (today >= quarter.End) return 1m;
        var total = quarter.End.DayNumber - quarter.Start.DayNumber + 1;
        var elapsed = today.DayNumber - quarter.Start.DayNumber + 1;
        return Math.Round((decimal)elapsed / total, 4, MidpointRounding.AwayFromZero);
    }

    /// <summary>
    /// Builds a plan's content from the request, or throws <see cref="ValidationFailedException"/> naming every failing field (400 for
    /// the shape: an unknown kind or status, a malformed date, a missing field; 422 for ranges: negative targets, a weight outside 1-100,
    /// too many items). Items that name the id of an existing one keep it; <paramref name="existing"/> holds the current ones.
    /// </summary>
    public static (IReadOnlyList<PlanObjective> Objectives, IReadOnlyList<PlanInitiative> Initiatives) Build(
        IReadOnlyList<ObjectiveInput?>? objectives, IReadOnlyList<InitiativeInput?>? initiatives, string programCurrency,
        IReadOnlyCollection<string> existingObjectives, IReadOnlyCollection<string> existingInitiatives)
    {
        var shape = new Dictionary<string, string[]>();
        var rules = new Dictionary<string, string[]>();
        void Shape(string field, string message) => shape.TryAdd(field, [message]);
        void Rule(string field, string message) => rules.TryAdd(field, [message]);

        var builtObjectives = new List<PlanObjective>();
        if (objectives is null || objectives.Count == 0) Shape("objectives", "objectives is required: at least one objective.");
        else if (objectives.Count > MaxObjectives) Rule("objectives", $"objectives holds at most {MaxObjectives} objectives.");
        else
        {
            var ids = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < objectives.Count; i++)
            {
                var field = $"objectives[{i}]";
                var o = objectives[i];
                if (o is null) { Shape(field, $"{field} is an objective object."); continue; }
                var kind = Text.ParseEnum<ObjectiveKind>(o.Kind);
                if (kind is null || !char.IsLower(o.Kind![0]))
                {
                    Shape(field + ".kind", $"{field}.kind must be one of: revenue, wonDeals, registrations, certifiedPeople, leadsAccepted, custom.");
                }
                var name = o.Name?.Trim();
                if (name is { Length: > MaxText }) Rule(field + ".name", $"{field}.name is at most {MaxText} characters.");
                if (kind == ObjectiveKind.Custom && string.IsNullOrEmpty(name)) Shape(field + ".name", $"{field}.name is required for a custom objective.");
                var targets = new List<decimal>();
                if (o.Targets is null || o.Targets.Count != 4 || o.Targets.Any(t => t is null))
                {
                    Shape(field + ".targets", $"{field}.targets must be 4 numbers: the targets of Q1, Q2, Q3 and Q4.");
                }
                else
                {
                    for (var q = 0; q < 4; q++)
                    {
                        var t = o.Targets[q]!.Value;
                        if (t < 0) Rule($"{field}.targets[{q}]", $"{field}.targets[{q}] must not be negative.");
                        else if (t > MaxTarget) Rule($"{field}.targets[{q}]", $"{field}.targets[{q}] must be at most 1,000,000,000,000.");
                        else if (kind is not (ObjectiveKind.Revenue or ObjectiveKind.Custom) && t != decimal.Truncate(t)) Rule($"{field}.targets[{q}]", $"{field}.targets[{q}] is a count: a whole number.");
                        else if (decimal.Round(t, 2) != t) Rule($"{field}.targets[{q}]", $"{field}.targets[{q}] has at most 2 decimals.");
                        targets.Add(t);
                    }
                }
                if (o.Weight is null) Shape(field + ".weight", $"{field}.weight is required: 1 to 100.");
                else if (o.Weight is < 1 or > 100) Rule(field + ".weight", $"{field}.weight must be 1 to 100.");
                string? currency = null;
                if (kind == ObjectiveKind.Revenue)
                {
                    currency = o.Currency?.Trim() ?? programCurrency;
                    if (!Currencies.IsKnown(currency)) Shape(field + ".currency", $"{field}.currency is an ISO 4217 code such as EUR.");
                }
                else if (o.Currency is not null) Shape(field + ".currency", $"{field}.currency is only for revenue objectives.");
                var id = o.Id;
                if (id is not null && !existingObjectives.Contains(id)) Rule(field + ".id", $"{field}.id names no objective of this plan; leave it out for a new objective.");
                id ??= Ids.New("obj");
                if (!ids.Add(id)) Rule(field + ".id", $"{field}.id appears twice.");
                if (kind is { } k && targets.Count == 4 && o.Weight is >= 1 and <= 100)
                {
                    builtObjectives.Add(new PlanObjective(id, Text.Camel(k), string.IsNullOrEmpty(name) ? DefaultName(k) : name, targets, o.Weight.Value, currency));
                }
            }
        }

        var builtInitiatives = new List<PlanInitiative>();
        if (initiatives is { Count: > MaxInitiatives }) Rule("initiatives", $"initiatives holds at most {MaxInitiatives} initiatives.");
        else if (initiatives is not null)
        {
            var ids = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < initiatives.Count; i++)
            {
                var field = $"initiatives[{i}]";
                var n = initiatives[i];
                if (n is null) { Shape(field, $"{field} is an initiative object."); continue; }
                var title = n.Title?.Trim();
                if (string.IsNullOrEmpty(title) || title.Length > MaxText) Shape(field + ".title", $"{field}.title is required (at most {MaxText} characters).");
                var owner = n.Owner?.Trim();
                if (string.IsNullOrEmpty(owner) || owner.Length > MaxText) Shape(field + ".owner", $"{field}.owner is required (at most {MaxText} characters): who carries it out.");
                var due = MdfRules.ParseDate(n.DueDate);
                if (due is null) Shape(field + ".dueDate", $"{field}.dueDate is a date such as 2027-03-31.");
                else if (due.Value.Year is < FiscalCalendar.MinYear or > FiscalCalendar.MaxYear) Rule(field + ".dueDate", $"{field}.dueDate is in {FiscalCalendar.MinYear} to {FiscalCalendar.MaxYear}.");
                var status = n.Status is null ? InitiativeStatus.Open : Text.ParseEnum<InitiativeStatus>(n.Status);
                if (status is null) Shape(field + ".status", $"{field}.status must be one of: open, done, dropped.");
                var mdf = n.MdfRequestId?.Trim();
                if (mdf is { Length: 0 }) mdf = null;
                var id = n.Id;
                if (id is not null && !existingInitiatives.Contains(id)) Rule(field + ".id", $"{field}.id names no initiative of this plan; leave it out for a new initiative.");
                id ??= Ids.New("ini");
                if (!ids.Add(id)) Rule(field + ".id", $"{field}.id appears twice.");
                if (!string.IsNullOrEmpty(title) && !string.IsNullOrEmpty(owner) && due is { } d && status is { } s)
                {
                    builtInitiatives.Add(new PlanInitiative(id, title, owner, d, Text.Camel(s), mdf));
                }
            }
        }
        if (shape.Count > 0) throw new ValidationFailedException(shape, string.Join(" ", shape.Select(e => e.Value[0])));
        if (rules.Count > 0) throw new ValidationFailedException(rules, string.Join(" ", rules.Select(e => e.Value[0])), unprocessable: true);
        return (builtObjectives, builtInitiatives);
    }

    /// <summary>The title of a plan: trimmed, at most <see cref="MaxText"/> characters (400 naming title otherwise).</summary>
    public static string Title(string? title, string fallback)
    {
        var t = title?.Trim();
        if (t is null) return fallback;
        if (t.Length is 0 or > MaxText) throw new ValidationFailedException("title", $"title is 1 to {MaxText} characters.");
        return t;
    }

    /// <summary>The name an objective of a kind gets when none is given.</summary>
    public static string DefaultName(ObjectiveKind kind) => kind switch
    {
        ObjectiveKind.Revenue => "Won revenue",
        ObjectiveKind.WonDeals => "Won deals",
        ObjectiveKind.Registrations => "Approved deal registrations",
        ObjectiveKind.CertifiedPeople => "Certifications earned",
        ObjectiveKind.LeadsAccepted => "Leads accepted",
        _ => "Custom objective",
    };

    /// <summary>A plan's content as flat fields (objectives and initiatives by id), the snapshot versions are compared by.</summary>
    public static Dictionary<string, string?> Snapshot(string title, IReadOnlyList<PlanObjective> objectives, IReadOnlyList<PlanInitiative> initiatives)
    {
        ArgumentNullException.ThrowIfNull(objectives);
        ArgumentNullException.ThrowIfNull(initiatives);
        static string N(decimal d) => d.ToString(CultureInfo.InvariantCulture);
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal) { ["title"] = title };
        foreach (var o in objectives)
        {
            var p = $"objectives.{o.Id}.";
            fields[p + "kind"] = o.Kind;
            fields[p + "name"] = o.Name;
            for (var q = 0; q < o.Targets.Count; q++) fields[p + "targets.q" + (q + 1).ToString(CultureInfo.InvariantCulture)] = N(o.Targets[q]);
            fields[p + "weight"] = o.Weight.ToString(CultureInfo.InvariantCulture);
            fields[p + "currency"] = o.Currency;
        }
        foreach (var n in initiatives)
        {
            var p = $"initiatives.{n.Id}.";
            fields[p + "title"] = n.Title;
            fields[p + "owner"] = n.Owner;
            fields[p + "dueDate"] = n.DueDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            fields[p + "status"] = n.Status;
            fields[p + "mdfRequestId"] = n.MdfRequestId;
        }
        return fields;
    }

    /// <summary>What changed from one content to the next, field by field.</summary>
    public static IReadOnlyList<FieldChange> Changes(BusinessPlan before, string title, IReadOnlyList<PlanObjective> objectives, IReadOnlyList<PlanInitiative> initiatives)
    {
        ArgumentNullException.ThrowIfNull(before);
        return Diff.Between(Snapshot(before.Title, before.Objectives, before.Initiatives), Snapshot(title, objectives, initiatives));
    }

    /// <summary>
    /// True when a locked plan may take the changes in place: only initiatives' statuses moved (progress on the agreed initiatives, not a
    /// change of what was agreed). Anything else needs a new version.
    /// </summary>
    public static bool IsProgressOnly(IReadOnlyList<FieldChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        return changes.Count > 0 && changes.All(c => c.Field.StartsWith("initiatives.", StringComparison.Ordinal) && c.Field.EndsWith(".status", StringComparison.Ordinal) && c.Before is not null && c.After is not null);
    }
}
