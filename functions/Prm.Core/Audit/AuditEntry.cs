namespace Prm.Core.Audit;

/// <summary>One changed field: its value before and after, as text.</summary>
public sealed record FieldChange(string Field, string? Before, string? After);

/// <summary>An append-only timeline entry: who did what to which subject, when, and what changed.</summary>
public sealed record AuditEntry(
    string Id,
    DateTimeOffset At,
    string ActorId,
    string ActorName,
    string Action,
    string SubjectType,
    string SubjectId,
    IReadOnlyList<FieldChange> Changes,
    string? Note = null);

/// <summary>Computes the field changes between two snapshots of a record.</summary>
public static class Diff
{
    /// <summary>Fields (name to text value) that differ; a null snapshot means "did not exist".</summary>
    public static IReadOnlyList<FieldChange> Between(IReadOnlyDictionary<string, string?>? before, IReadOnlyDictionary<string, string?>? after)
    {
        var keys = (before?.Keys ?? []).Union(after?.Keys ?? []).Order(StringComparer.Ordinal);
        var changes = new List<FieldChange>();
        foreach (var key in keys)
        {
            string? a = null, b = null;
            before?.TryGetValue(key, out a);
            after?.TryGetValue(key, out b);
            if (!string.Equals(a, b, StringComparison.Ordinal)) changes.Add(new FieldChange(key, a, b));
        }
        return changes;
    }
}
