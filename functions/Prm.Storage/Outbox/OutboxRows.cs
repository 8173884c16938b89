using System.Text.Json;
using Azure.Data.Tables;
using Prm.Core.Audit;
using Prm.Core.Outbox;

namespace Prm.Storage.Outbox;

/// <summary>How timeline and outbox rows are stored inside an owner's partition.</summary>
public static class OutboxRows
{
    public const string OutboxPrefix = "outbox|";
    public const string AuditPrefix = "audit|";

    /// <summary>An outbox row; <paramref name="claimedUntil"/>: born claimed for the committing process's delivery (<see cref="OutboxPointers.ClaimUntil"/>).</summary>
    public static TableEntity Outbox(string partitionKey, OutboxMessage m, DateTimeOffset? claimedUntil = null)
    {
        var row = new TableEntity(partitionKey, OutboxPrefix + m.Id)
        {
            ["Kind"] = m.Kind.ToString(),
            ["Type"] = m.Type,
            ["PartnerId"] = m.PartnerId,
            ["CorrelationId"] = m.CorrelationId,
            ["CreatedAt"] = m.CreatedAt,
            ["Payload"] = m.Payload,
            ["Attempts"] = 0,
        };
        if (claimedUntil is { } until) row["ClaimedUntil"] = until;
        return row;
    }

    public static OutboxMessage ReadOutbox(TableEntity e) => new(
        e.RowKey[OutboxPrefix.Length..],
        Enum.Parse<OutboxKind>(e.GetString("Kind")),
        e.GetString("Type"),
        e.GetString("PartnerId"),
        e.GetString("CorrelationId"),
        e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        e.GetString("Payload"));

    public static TableEntity Audit(string partitionKey, AuditEntry a) => new(partitionKey, AuditPrefix + KeyEncoding.Inverted(a.At) + "|" + a.Id)
    {
        ["At"] = a.At,
        ["ActorId"] = a.ActorId,
        ["ActorName"] = a.ActorName,
        ["Action"] = a.Action,
        ["SubjectType"] = a.SubjectType,
        ["SubjectId"] = a.SubjectId,
        ["Changes"] = JsonSerializer.Serialize(a.Changes, OutboxJson.Options),
        ["Note"] = a.Note,
    };

    public static AuditEntry ReadAudit(TableEntity e) => new(
        e.RowKey[(e.RowKey.LastIndexOf('|') + 1)..],
        e.GetDateTimeOffset("At") ?? DateTimeOffset.MinValue,
        e.GetString("ActorId"),
        e.GetString("ActorName"),
        e.GetString("Action"),
        e.GetString("SubjectType"),
        e.GetString("SubjectId"),
        JsonSerializer.Deserialize<List<FieldChange>>(e.GetString("Changes") ?? "[]", OutboxJson.Options) ?? [],
        e.GetString("Note"));
}
