using System.Text.Json;

namespace Prm.Core.Privacy;

/// <summary>One stored row that holds or references a person's data, as the export returns it.</summary>
/// <param name="Store">The store: partners (users, partner timeline), keys (identity links, the email key), staff, deals, leads, applications, training, mdf, assets, integration (event log, webhooks, CRM inbox), settings, development sinks.</param>
/// <param name="Kind">What the row is: user, deal, lead, audit (a timeline entry), outbox, award, identity, email key, …: the first part of its key.</param>
/// <param name="Data">The row's fields; JSON documents (bodies, changes) parsed.</param>
public sealed record PersonalRecord(string Store, string Table, string Kind, string PartitionKey, string RowKey, JsonElement Data);

/// <summary>A past erasure of an email (the email itself is not kept: the record is found by its pseudonym).</summary>
public sealed record ErasureRecord(string Pseudonym, DateTimeOffset ErasedAt, string ErasedBy, int RowsChanged, int KeyRowsDeleted);

/// <summary>Everything stored about a person, found by email (and the user id the email is registered to).</summary>
/// <param name="UserId">The user or staff id the email is registered to; null when it belongs to nobody who signs in (a lead or deal contact, an applicant).</param>
/// <param name="Erased">The erasure of this email, when there was one.</param>
/// <param name="Coverage">What the search covers and what it does not (see docs/privacy.md).</param>
public sealed record PersonalDataExport(string Email, string? UserId, DateTimeOffset ExportedAt, ErasureRecord? Erased, int Count, IReadOnlyList<PersonalRecord> Records, IReadOnlyList<string> Coverage);

/// <summary>Body of POST /api/people/{email}/erase (optional).</summary>
public sealed record EraseRequest(string? Reason);

/// <summary>What an erasure changed.</summary>
/// <param name="Pseudonym">The stable pseudonym that replaced the person (a keyed hash of the email): the same for every row, and for a second erasure.</param>
/// <param name="RowsChanged">Rows rewritten with the pseudonym (amounts, counters and ids untouched).</param>
/// <param name="KeyRowsDeleted">Rows keyed by the email (its uniqueness claim, rate-limit counters, the lead-contact look-up) deleted: a key cannot be rewritten.</param>
/// <param name="ByStore">Rows rewritten per table.</param>
/// <param name="NotCovered">Where personal data may remain (blobs, workflow histories, what was already delivered).</param>
public sealed record ErasureResult(string Pseudonym, DateTimeOffset ErasedAt, int RowsChanged, int KeyRowsDeleted, IReadOnlyDictionary<string, int> ByStore, IReadOnlyList<string> NotCovered);
