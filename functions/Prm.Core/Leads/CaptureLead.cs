using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Identity;
using Prm.Core.Settings;

namespace Prm.Core.Leads;

/// <summary>
/// Lead intake (admins, channel managers, the integration app): validation (consent, product lines, email, ISO country, sizes), the
/// externalId key row (the same externalId updates the lead, never a second one), the 30-day merge of the same contact at the same
/// domain, then the first routing — all committed with the lead in one transaction. consentToShare false keeps the lead VendorOnly.
/// </summary>
public sealed class CaptureLead(ILeadStore store, LeadRouter router, LeadCommits commits, LeadNotices notices, ProductLines productLines, ProgramSettings settings, TimeProvider clock)
{
    public const string ExternalKey = "ext";
    public const string ContactKey = "contact";

    public async Task<(LeadIntakeResult Result, bool Created)> IntakeAsync(Caller caller, CreateLeadRequest? body, CancellationToken ct)
    {
        if (!LeadAccess.MayCreate(caller)) throw new ForbiddenException("Leads are created by program admins, channel managers and the integration app.");
        var request = Validate.Body(body, new CreateLeadValidator());
        var lines = await CheckProductLinesAsync(request.ProductLines!, ct);
        var s = await settings.GetAsync<LeadSettings>(LeadSettings.SectionName, ct);
        var now = clock.GetUtcNow();
        var externalId = request.ExternalId?.Trim();
        var email = Text.NormalizeEmail(request.Contact!.Email)!;
        var domain = CustomerNormalizer.RegistrableDomain(request.Company!.Domain) ?? CustomerNormalizer.RegistrableDomain(email);
        var fields = Fields(request, lines, domain);

        if (externalId is not null && await store.FindKeyAsync(ExternalKey, externalId, ct) is { } known && await UpdateAsync(caller, known.LeadId, fields, ct) is { } updated)
            return (updated, false);
        if (await store.FindKeyAsync(ContactKey, email, ct) is { } contact && await MergeAsync(caller, contact, domain, externalId, request.Notes?.Trim(), s, now, ct) is { } merged)
            return (merged, false);

        var lead = new Lead
        {
            Id = LeadIds.New(), Status = request.ConsentToShare == true ? LeadStatus.New : LeadStatus.VendorOnly,
            Company = fields.Company, Contact = fields.Contact, ProductLines = lines, Source = fields.Source, Grade = fields.Grade, EstimatedValue = fields.Value, Notes = fields.Notes,
            ExternalId = externalId, ConsentToShare = request.ConsentToShare == true, CreatedBy = caller.UserId, CreatedByName = caller.DisplayName, CreatedAt = now, UpdatedAt = now,
        };
        if (externalId is not null && !await ClaimExternalAsync(externalId, lead.Id, now, ct))
        {
            // Someone created the lead of this externalId meanwhile: this intake updates it.
            var raced = await store.FindKeyAsync(ExternalKey, externalId, ct);
            if (raced is not null && await UpdateAsync(caller, raced.LeadId, fields, ct) is { } again) return (again, false);
            throw new ConflictException("Another intake of this externalId is being written; retry.", "externalId");
        }
        try
        {
            var created = new LeadChange(lead, LeadEvents.Created, [new LeadRaised(LeadEvents.Created)], [], lead.ConsentToShare ? null : "no consent to share: kept with the vendor");
            var change = lead.ConsentToShare ? lead.Route(await router.DecideAsync(lead, s, now, ct), s, now, LeadEvents.Created, created.Events, [], null) : created;
            var outbox = await notices.OutboxAsync(change.Lead, change, now, ct);
            await store.CreateAsync(change.Lead, new Partners.ChangeSet([LeadCommits.Entry(caller, now, LeadEvents.Created, lead.Id, Audit.Diff.Between(null, change.Lead.Snapshot()), change.Note)], outbox), ct);
            await RememberContactAsync(email, lead.Id, now, ct);
            return (Result(change.Lead), true);
        }
        catch
        {
            if (externalId is not null) await store.ReleaseKeyAsync(ExternalKey, externalId, lead.Id, CancellationToken.None);
            throw;
        }
    }

    public static LeadIntakeResult Result(Lead lead) =>
        new(LeadDto.Vendor(lead), lead.Status == LeadStatus.Offered ? "offered" : lead.Status == LeadStatus.VendorPool ? "vendorPool" : Text.Camel(lead.Status), lead.PendingOffer?.PartnerId, lead.PoolReason);

    private sealed record LeadFields(LeadCompany Company, LeadContact Contact, IReadOnlyList<string> Lines, LeadSource? Source, string? Grade, Money? Value, string? Notes);

    private static LeadFields Fields(CreateLeadRequest r, IReadOnlyList<string> lines, string? domain)
    {
        var c = r.Company!;
        var country = c.Country!.Trim().ToUpperInvariant();
        return new LeadFields(
            new LeadCompany(c.Name!.Trim(), domain, country, c.Region?.Trim() ?? RegionOf(country), c.PostalCode?.Trim(), c.Industry?.Trim(), c.SizeBand?.Trim()),
            new LeadContact(r.Contact!.Name!.Trim(), Text.NormalizeEmail(r.Contact.Email)!, r.Contact.Phone?.Trim(), r.Contact.JobTitle?.Trim()),
            lines, r.Source is null ? null : new LeadSource(r.Source.Campaign?.Trim(), r.Source.Channel?.Trim()), r.Grade, r.EstimatedValue?.ToMoney().Round(), r.Notes?.Trim());
    }

    /// <summary>The program's region of a country when the intake names none (as for partner applications).</summary>
    public static string RegionOf(string country) => country is "US" or "CA" or "MX" or "BR" or "AR" or "CL" or "CO" ? "amer"
        : country is "AU" or "NZ" or "JP" or "CN" or "IN" or "SG" or "KR" or "HK" or "TW" ? "apac" : "emea";

    /// <summary>The same externalId again: the lead's data is replaced (its routing and status stay); null when the key row points at nothing (a failed intake).</summary>
    private async Task<LeadIntakeResult?> UpdateAsync(Caller caller, string leadId, LeadFields f, CancellationToken ct)
    {
        if (await store.GetAsync(leadId, ct) is null) return null;
        var done = await commits.TransitionAsync(caller, leadId, LeadOperation.Read, (lead, now) => Task.FromResult(new LeadChange(lead with
        {
            Company = f.Company, Contact = f.Contact, ProductLines = f.Lines, Source = f.Source, Grade = f.Grade, EstimatedValue = f.Value, Notes = f.Notes,
            History = [.. lead.History, new LeadNote("updated", "The intake sent the same externalId again.", caller.DisplayName, now)],
        }, "lead.updated", [], [])), ct);
        return Result(done.Value);
    }

    private async Task<LeadIntakeResult?> MergeAsync(Caller caller, LeadKey contact, string? domain, string? externalId, string? notes, LeadSettings s, DateTimeOffset now, CancellationToken ct)
    {
        if (now - contact.At > TimeSpan.FromDays(s.MergeWindowDays)) return null;
        if (await store.GetAsync(contact.LeadId, ct) is not { } found) return null;
        var lead = found.Value;
        if (!lead.IsOpen || lead.Company.Domain != domain || now - lead.CreatedAt > TimeSpan.FromDays(s.MergeWindowDays)) return null;
        var done = await commits.TransitionAsync(caller, lead.Id, LeadOperation.Read, (l, at) => Task.FromResult(l.Merge(caller.DisplayName, externalId, notes, at)), ct);
        return Result(done.Value) with { Outcome = "merged" };
    }

    private async Task<bool> ClaimExternalAsync(string externalId, string leadId, DateTimeOffset now, CancellationToken ct)
    {
        if (await store.TryAddKeyAsync(ExternalKey, externalId, leadId, now, ct)) return true;
        // A key row whose lead was never written (a failed intake) is taken over.
        var key = await store.FindKeyAsync(ExternalKey, externalId, ct);
        if (key is null) return await store.TryAddKeyAsync(ExternalKey, externalId, leadId, now, ct);
        if (await store.GetAsync(key.LeadId, ct) is not null) return false;
        return await store.ReplaceKeyAsync(ExternalKey, externalId, leadId, now, key.ETag, ct);
    }

    private async Task RememberContactAsync(string email, string leadId, DateTimeOffset now, CancellationToken ct)
    {
        if (await store.TryAddKeyAsync(ContactKey, email, leadId, now, ct)) return;
        if (await store.FindKeyAsync(ContactKey, email, ct) is { } key) await store.ReplaceKeyAsync(ContactKey, email, leadId, now, key.ETag, ct);
    }

    private async Task<IReadOnlyList<string>> CheckProductLinesAsync(IReadOnlyList<string> ids, CancellationToken ct)
    {
        var known = (await productLines.AllAsync(ct)).Where(l => l.Active).Select(l => l.Id).ToHashSet(StringComparer.Ordinal);
        var errors = new Dictionary<string, string[]>();
        for (var i = 0; i < ids.Count; i++)
        {
            if (!known.Contains(ids[i].Trim())) errors[$"productLines[{i}]"] = [$"'{ids[i]}' is not an active product line; see GET /api/product-lines."];
        }
        if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(e => e.Value[0])), unprocessable: true);
        return ids.Select(i => i.Trim()).Distinct(StringComparer.Ordinal).ToList();
    }
}
