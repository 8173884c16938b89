using System.Globalization;
using System.Security.Cryptography;
using FluentValidation;
using Prm.Core.Approvals;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Mdf;
using Prm.Core.Notifications;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Deals;

/// <summary>
/// Deal registration: conflict detection from the conflict index, first-come claims, auto-approval by the program's rules, review by the
/// channel manager (API or decision link), protection with reminders, extensions and expiry, outcomes. Every transition commits the
/// registration with its timeline entry and outbox events in one transaction.
/// </summary>
public sealed class DealRegistrations(
    IDealStore store, IPartnerStore partners, IStaffStore staff, ProductLines productLines, ProgramSettings settings, ProgramOptions program,
    DecisionLinks links, EmailComposer emails, TimeProvider clock) : IDealSteps
{
    public const string ReviewKind = "dealReview";
    public const string ExtensionKind = "dealExtension";

    private readonly RefreshingCache<string, Partner?> partnerCache = new(clock, TimeSpan.FromSeconds(program.MembershipCacheSeconds));

    /// <summary>Registers a deal (or saves a draft). Returns the registration and whether it was created now (false: an Idempotency-Key replay).</summary>
    public async Task<(Versioned<DealDto> Deal, bool Created)> RegisterAsync(Caller caller, RegisterDealRequest? body, string? idempotencyKey, CancellationToken ct)
    {
        if (caller.PartnerId is not { } partnerId) throw new ForbiddenException("Deals are registered by partner users.");
        if (idempotencyKey is not null && (idempotencyKey.Length is 0 or > 200)) throw new ValidationFailedException("Idempotency-Key", "The Idempotency-Key header takes 1 to 200 characters.");
        var idempotency = idempotencyKey is null ? null : Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(caller.UserId + "\n" + idempotencyKey)))[..32];
        if (idempotency is not null && await store.FindByIdempotencyAsync(partnerId, idempotency, ct) is { } existingId)
        {
            return (await ReplayAsync(caller, existingId, ct), false);
        }
        var request = Validate.Body(body, new RegisterDealValidator(clock));
        var products = await CheckProductsAsync(request.Products!, ct);
        var partner = await PartnerAsync(partnerId, ct) ?? throw new NotFoundException("Partner");
        if (partner.Status != PartnerStatus.Active) throw new ConflictException($"The partner is {partner.Status}; only active partners register deals.");
        var rules = await RulesAsync(ct);
        var now = clock.GetUtcNow();
        var customer = Customer(request.Customer!)!;
        var draft = new Deal
        {
            Id = DealIds.New(partnerId, now),
            RegistrationNumber = DealIds.RegistrationNumber(now),
            PartnerId = partnerId,
            PartnerName = partner.Name,
            ChannelManagerId = partner.ChannelManagerId,
            SubmittedBy = caller.UserId,
            SubmittedByName = caller.DisplayName,
            SubmittedByEmail = caller.Email,
            Status = DealStatus.Draft,
            Customer = customer,
            Products = products,
            EstimatedValue = request.EstimatedValue!.ToMoney().Round(),
            ExpectedCloseDate = MdfRules.ParseDate(request.ExpectedCloseDate)!.Value,
            Notes = request.Notes?.Trim(),
            MdfRequestId = request.MdfRequestId?.Trim(),
            CreatedAt = now,
            Conflict = new DealConflict("none", 0, [], [], false, false),
            UpdatedAt = now,
        };
        Deal deal;
        List<OutboxMessage> outbox;
        string action;
        if (request.Draft == true)
        {
            (deal, outbox, action) = (draft, [], "deal.drafted");
        }
        else
        {
            (deal, outbox) = await SubmitCoreAsync(draft, partner, rules, now, ct);
            action = "deal.submitted";
        }
        var audit = Entry(caller, now, action, deal.Id, Diff.Between(null, deal.Snapshot()), deal.Conflict.Evidence.Count == 0 ? null : "Conflict " + deal.Conflict.Level + ": " + string.Join(" ", deal.Conflict.Evidence));
        try
        {
            var etag = await store.CreateAsync(deal, idempotency, new ChangeSet([audit], outbox), ct);
            return (new Versioned<DealDto>(DealDto.From(deal, caller.IsVendor), etag), true);
        }
        catch (Exception ex) when (ex is ConflictException or PreconditionFailedException)
        {
            if (deal.ClaimKey is not null) await store.ReleaseClaimAsync(deal.ClaimKey, deal.Id, ct);
            if (idempotency is not null && await store.FindByIdempotencyAsync(partnerId, idempotency, ct) is { } raced) return (await ReplayAsync(caller, raced, ct), false);
            throw;
        }
        catch
        {
            if (deal.ClaimKey is not null) await store.ReleaseClaimAsync(deal.ClaimKey, deal.Id, CancellationToken.None);
            throw;
        }
    }

    /// <summary>Lists deals: partner admins their company's, sales reps their own, channel managers their partners', admins all.</summary>
    public async Task<Page<DealDto>> ListAsync(Caller caller, string? status, string? partnerId, string? customer, string? expiringBefore, PageRequest page, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var statusValue = Text.ParseEnum<DealStatus>(status);
        if (status is not null && statusValue is null) errors["status"] = ["status must be one of: " + string.Join(", ", Enum.GetNames<DealStatus>()) + "."];
        DateTimeOffset? before = null;
        if (expiringBefore is not null)
        {
            if (DateTimeOffset.TryParse(expiringBefore, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)) before = parsed;
            else errors["expiringBefore"] = ["expiringBefore must be a date or an instant such as 2026-12-31 or 2026-12-31T00:00:00Z."];
        }
        if (customer is not null && (customer.Trim().Length == 0 || customer.Length > 100)) errors["customer"] = ["customer must be 1 to 100 characters (a name prefix)."];
        if (errors.Count > 0) throw new ValidationFailedException(errors);
        var prefix = customer is null ? null : CustomerNormalizer.CompanyNameKey(customer) ?? Text.NameKey(customer);
        DealQuery query;
        if (caller.PartnerId is { } own)
        {
            if (partnerId is not null && partnerId != own) throw new NotFoundException("Partner");
            query = new DealQuery(own, null, caller.PartnerRole == PartnerRole.PartnerAdmin ? null : caller.UserId, statusValue, prefix, before);
        }
        else if (caller.IsAdmin)
        {
            query = new DealQuery(partnerId, null, null, statusValue, prefix, before);
        }
        else if (caller.IsChannelManager)
        {
            if (partnerId is not null)
            {
                var partner = (await partners.GetAsync(partnerId, ct))?.Value;
                if (partner is null || partner.ChannelManagerId != caller.UserId) throw new NotFoundException("Partner");
                query = new DealQuery(partnerId, null, null, statusValue, prefix, before);
            }
            else
            {
                query = new DealQuery(null, caller.UserId, null, statusValue, prefix, before);
            }
        }
        else
        {
            throw new ForbiddenException("Only partner users and vendor staff list deals.");
        }
        if (query.PartnerId is not null && !Ids.LooksLike(query.PartnerId, "ptn")) throw new NotFoundException("Partner");
        var result = await store.ListAsync(query, page, ct);
        if (!caller.IsVendor) return result.Map(d => d with { Conflict = d.Conflict with { MatchedDealIds = null, HouseAccount = null } });
        var items = result.Items.Where(d => d.Status != nameof(DealStatus.Draft)).ToList();
        if (query.ChannelManagerId is not null)
        {
            // The per-manager index follows reassignments from the outbox; until it has, a partner's current owner decides.
            var owners = await Task.WhenAll(items.Select(d => d.PartnerId).Distinct().Select(async id => (id, (await PartnerAsync(id, ct))?.ChannelManagerId)));
            var mine = owners.Where(o => o.Item2 == caller.UserId).Select(o => o.id).ToHashSet(StringComparer.Ordinal);
            items = items.Where(d => mine.Contains(d.PartnerId)).ToList();
        }
        return new Page<DealDto>(items, result.NextCursor);
    }

    public async Task<Versioned<DealDto>> GetAsync(Caller caller, string dealId, CancellationToken ct)
    {
        var found = await LoadVisibleAsync(caller, dealId, ct);
        return new Versioned<DealDto>(DealDto.From(found.Value, caller.IsVendor), found.ETag);
    }

    public async Task<Page<AuditEntry>> TimelineAsync(Caller caller, string dealId, PageRequest page, CancellationToken ct)
    {
        await LoadVisibleAsync(caller, dealId, ct);
        return await store.TimelineAsync(dealId, page, ct);
    }

    /// <summary>Edits a Draft or Returned registration (If-Match); only present fields change.</summary>
    public async Task<Versioned<DealDto>> PatchAsync(Caller caller, string dealId, string? ifMatch, RegisterDealRequest? body, CancellationToken ct)
    {
        var found = await LoadVisibleAsync(caller, dealId, ct);
        RequirePartnerOwner(caller, found.Value);
        if (string.IsNullOrEmpty(ifMatch) || ifMatch.Trim() == "*") throw new PreconditionFailedException("PATCH requires an If-Match header with the deal's ETag (not *).", required: true);
        var request = Validate.Body(body, new RegisterDealValidator(clock, partial: true));
        var deal = found.Value;
        if (deal.Status is not (DealStatus.Draft or DealStatus.Returned)) throw new ConflictException($"A {deal.Status} registration cannot be edited; only Draft and Returned ones can.", "status");
        var c = request.Customer;
        var customer = c is null ? deal.Customer : Customer(new DealCustomerInput(c.CompanyName ?? deal.Customer.CompanyName, c.Domain ?? deal.Customer.Domain, c.Country ?? deal.Customer.Country,
            c.ContactName ?? deal.Customer.ContactName, c.ContactEmail ?? deal.Customer.ContactEmail))!;
        var updated = deal with
        {
            Customer = customer,
            Products = request.Products is null ? deal.Products : await CheckProductsAsync(request.Products, ct),
            EstimatedValue = request.EstimatedValue is null ? deal.EstimatedValue : request.EstimatedValue.ToMoney().Round(),
            ExpectedCloseDate = MdfRules.ParseDate(request.ExpectedCloseDate) ?? deal.ExpectedCloseDate,
            Notes = request.Notes is null ? deal.Notes : request.Notes.Trim(),
            MdfRequestId = request.MdfRequestId is null ? deal.MdfRequestId : request.MdfRequestId.Trim(),
            UpdatedAt = clock.GetUtcNow(),
        };
        var changes = Diff.Between(deal.Snapshot(), updated.Snapshot());
        if (changes.Count == 0) return new Versioned<DealDto>(DealDto.From(deal, caller.IsVendor), found.ETag);
        var now = updated.UpdatedAt;
        // A changed customer gives up the claim of the old one; the next submission claims again.
        var releaseClaim = deal.ClaimKey is not null && deal.ClaimKey != ClaimKeyOf(updated.Customer);
        if (releaseClaim) updated = updated with { ClaimKey = null, Conflict = updated.Conflict with { ClaimHeld = false } };
        var etag = await store.UpdateAsync(updated, ifMatch, new ChangeSet([Entry(caller, now, "deal.updated", deal.Id, changes)], [OutboxMessage.ForEvent(DealEvents.Create(DealEvents.Updated, updated, now))]), ct);
        if (releaseClaim) await store.ReleaseClaimAsync(deal.ClaimKey!, deal.Id, ct);
        return new Versioned<DealDto>(DealDto.From(updated, caller.IsVendor), etag);
    }

    /// <summary>Submits a Draft or resubmits a Returned registration: the conflict check, the claim and the rules run again.</summary>
    public async Task<Versioned<DealDto>> SubmitAsync(Caller caller, string dealId, CancellationToken ct)
    {
        var found = await LoadVisibleAsync(caller, dealId, ct);
        RequirePartnerOwner(caller, found.Value);
        var deal = found.Value;
        if (deal.Status is not (DealStatus.Draft or DealStatus.Returned)) throw new ConflictException($"A {deal.Status} registration cannot be submitted; only Draft and Returned ones can.", "status");
        var partner = await PartnerAsync(deal.PartnerId, ct) ?? throw new NotFoundException("Partner");
        if (partner.Status != PartnerStatus.Active) throw new ConflictException($"The partner is {partner.Status}; only active partners register deals.");
        var now = clock.GetUtcNow();
        var (submitted, outbox) = await SubmitCoreAsync(deal with { ChannelManagerId = partner.ChannelManagerId }, partner, await RulesAsync(ct), now, ct);
        var audit = Entry(caller, now, deal.Status == DealStatus.Returned ? "deal.resubmitted" : "deal.submitted", deal.Id, Diff.Between(deal.Snapshot(), submitted.Snapshot()),
            submitted.Conflict.Evidence.Count == 0 ? null : "Conflict " + submitted.Conflict.Level + ": " + string.Join(" ", submitted.Conflict.Evidence));
        try
        {
            var etag = await store.UpdateAsync(submitted, found.ETag, new ChangeSet([audit], outbox), ct);
            return new Versioned<DealDto>(DealDto.From(submitted, caller.IsVendor), etag);
        }
        catch
        {
            if (submitted.ClaimKey is not null && deal.ClaimKey != submitted.ClaimKey) await store.ReleaseClaimAsync(submitted.ClaimKey, deal.Id, CancellationToken.None);
            throw;
        }
    }

    /// <summary>The partner withdraws the registration: final, the claim is released.</summary>
    public Task<Versioned<DealDto>> WithdrawAsync(Caller caller, string dealId, string? reason, CancellationToken ct) =>
        TransitionAsync(caller, dealId, ct, (deal, now) =>
        {
            RequirePartnerOwner(caller, deal);
            if (deal.Status is not (DealStatus.Draft or DealStatus.UnderReview or DealStatus.Approved or DealStatus.Returned))
                throw new ConflictException($"A {deal.Status} registration cannot be withdrawn.", "status");
            if (reason?.Length > 2000) throw new ValidationFailedException("reason", "reason takes at most 2000 characters.");
            var updated = deal with { Status = DealStatus.Withdrawn, ClaimKey = null, Conflict = deal.Conflict with { ClaimHeld = false }, Decisions = [.. deal.Decisions, new DealDecision("withdraw", reason?.Trim(), caller.UserId, caller.DisplayName, now)] };
            return (updated, "deal.withdrawn", [OutboxMessage.ForEvent(DealEvents.Create(DealEvents.Withdrawn, updated, now, reason))]);
        });

    /// <summary>The channel manager (or an admin) decides: approve (protection starts), reject (final) or return (the partner completes it).</summary>
    public async Task<Versioned<DealDto>> DecideAsync(Caller caller, string dealId, DealDecisionRequest? body, CancellationToken ct)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var decision = body.Decision?.Trim();
        if (decision is not ("approve" or "reject" or "return")) throw new ValidationFailedException("decision", "decision must be approve, reject or return.");
        if (decision is "reject" or "return" && string.IsNullOrWhiteSpace(body.Reason)) throw new ValidationFailedException("reason", $"reason is required to {decision}: the partner is told why.");
        if (body.Reason?.Length > 2000) throw new ValidationFailedException("reason", "reason takes at most 2000 characters.");
        var rules = await RulesAsync(ct);
        if (body.ProtectionDays is { } days && (days < 1 || days > rules.MaxProtectionDays)) throw new ValidationFailedException("protectionDays", $"protectionDays must be 1 to {rules.MaxProtectionDays}.");
        if (body.ProtectionDays is not null && decision != "approve") throw new ValidationFailedException("protectionDays", "protectionDays applies to approve only.");
        var found = await LoadVisibleAsync(caller, dealId, ct);
        await RequireReviewerAsync(caller, found.Value, ct);
        for (var attempt = 1; ; attempt++)
        {
            var deal = found.Value;
            if (deal.Status != DealStatus.UnderReview)
            {
                var last = deal.Decisions.LastOrDefault(d => d.Decision is "approve" or "reject" or "return" or "auto-approve");
                throw new ConflictException(last is null
                    ? $"The registration is {deal.Status} and can no longer be decided."
                    : $"Already decided ({last.Decision}) by {last.DecidedByName} at {last.DecidedAt.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}.", "decision");
            }
            var now = clock.GetUtcNow();
            var record = new DealDecision(decision, body.Reason?.Trim(), caller.UserId, caller.DisplayName, now);
            Deal updated;
            string eventType;
            var outbox = new List<OutboxMessage>();
            var claimAcquired = false;
            switch (decision)
            {
                case "approve":
                    var claimKey = ClaimKeyOf(deal.Customer);
                    var held = await store.TryClaimAsync(claimKey, deal.Id, deal.PartnerId, ct);
                    if (!held) throw new ConflictException("Another active registration holds this customer (it was first); reject or return this one, or decide after that registration ends.", "decision");
                    claimAcquired = deal.ClaimKey != claimKey;
                    var protection = body.ProtectionDays is { } d ? TimeSpan.FromDays(d) : rules.ProtectionPeriod;
                    updated = deal with { Status = DealStatus.Approved, ApprovedAt = now, ProtectedUntil = now + protection, ClaimKey = claimKey, Conflict = deal.Conflict with { ClaimHeld = true } };
                    eventType = DealEvents.Approved;
                    outbox.Add(Email("deal-approved", deal.SubmittedByEmail, deal.SubmittedByName, updated, now));
                    break;
                case "reject":
                    updated = deal with { Status = DealStatus.Rejected, ClaimKey = null, Conflict = deal.Conflict with { ClaimHeld = false } };
                    eventType = DealEvents.Rejected;
                    outbox.Add(Email("deal-rejected", deal.SubmittedByEmail, deal.SubmittedByName, updated, now, reason: record.Reason));
                    break;
                default:
                    // A returned registration is not protected: it gives up its claim and claims again when resubmitted.
                    updated = deal with { Status = DealStatus.Returned, ClaimKey = null, Conflict = deal.Conflict with { ClaimHeld = false } };
                    eventType = DealEvents.Returned;
                    outbox.Add(Email("deal-returned", deal.SubmittedByEmail, deal.SubmittedByName, updated, now, reason: record.Reason));
                    break;
            }
            updated = updated with { Decisions = [.. deal.Decisions, record], UpdatedAt = now, ChannelManagerId = await ManagerOfAsync(deal, ct) };
            outbox.Insert(0, OutboxMessage.ForEvent(DealEvents.Create(eventType, updated, now, record.Reason)));
            try
            {
                var etag = await store.UpdateAsync(updated, found.ETag, new ChangeSet([Entry(caller, now, eventType, deal.Id, Diff.Between(deal.Snapshot(), updated.Snapshot()), record.Reason)], outbox), ct);
                if (decision is "reject" or "return" && deal.ClaimKey is not null) await store.ReleaseClaimAsync(deal.ClaimKey, deal.Id, ct);
                return new Versioned<DealDto>(DealDto.From(updated, caller.IsVendor), etag);
            }
            catch (PreconditionFailedException) when (attempt < 5)
            {
                if (claimAcquired) await store.ReleaseClaimAsync(ClaimKeyOf(deal.Customer), deal.Id, ct);
                found = await store.GetAsync(dealId, ct) ?? throw new NotFoundException("Deal");
            }
            catch when (claimAcquired)
            {
                await store.ReleaseClaimAsync(ClaimKeyOf(deal.Customer), deal.Id, CancellationToken.None);
                throw;
            }
        }
    }

    /// <summary>The partner asks for a longer protection; the channel manager decides (API or link). At most MaxExtensions approved.</summary>
    public async Task<Versioned<DealDto>> RequestExtensionAsync(Caller caller, string dealId, ExtensionRequestBody? body, CancellationToken ct)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var rules = await RulesAsync(ct);
        var errors = new Dictionary<string, string[]>();
        if (body.Days is not { } days || days < 1 || days > rules.MaxExtensionDays) errors["days"] = [$"days must be 1 to {rules.MaxExtensionDays}."];
        if (string.IsNullOrWhiteSpace(body.Reason) || body.Reason.Length > 2000) errors["reason"] = ["reason is required (at most 2000 characters)."];
        if (errors.Count > 0) throw new ValidationFailedException(errors);
        DealExtension? extension = null;
        var result = await TransitionAsync(caller, dealId, ct, (deal, now) =>
        {
            RequirePartnerOwner(caller, deal);
            if (deal.Status != DealStatus.Approved) throw new ConflictException($"Only an approved registration can be extended; this one is {deal.Status}.", "status");
            if (deal.PendingExtension is not null) throw new ConflictException("An extension request is waiting for a decision already.", "days");
            if (deal.Extensions.Count >= 10) throw new ValidationFailedException("days", "This registration had 10 extension requests; the program takes no more.", unprocessable: true);
            if (deal.Extensions.Count(e => e.Status == "Approved") >= rules.MaxExtensions)
                throw new ValidationFailedException("days", $"This registration had its {rules.MaxExtensions} extension(s) already; the program allows no more.", unprocessable: true);
            extension = new DealExtension(Ids.New("ext"), body.Days!.Value, body.Reason!.Trim(), caller.UserId, caller.DisplayName, now, "Pending");
            var updated = deal with { Extensions = [.. deal.Extensions, extension] };
            return (updated, "deal.extensionRequested", [OutboxMessage.ForEvent(DealEvents.Create(DealEvents.ExtensionRequested, updated, now, extension.Reason))]);
        }, async (deal, now, outbox) =>
        {
            foreach (var reviewer in await ReviewersAsync(deal, ct))
            {
                var link = await links.IssueAsync(ExtensionKind, deal.Id + "|" + extension!.Id, Recipient(reviewer), ["approve", "reject"], now + rules.DecisionLinkValidFor, ct);
                outbox.Add(Email("deal-extension-requested", reviewer.Email, reviewer.DisplayName, deal, now, reviewerName: reviewer.DisplayName, decisionUrl: link, extension: extension));
            }
        });
        return result;
    }

    /// <summary>Decides an extension request: approve moves the protection end (and the running expiry timer), reject tells the partner.</summary>
    public async Task<Versioned<DealDto>> DecideExtensionAsync(Caller caller, string dealId, string extensionId, ExtensionDecisionRequest? body, CancellationToken ct)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var decision = body.Decision?.Trim();
        if (decision is not ("approve" or "reject")) throw new ValidationFailedException("decision", "decision must be approve or reject.");
        if (decision == "reject" && string.IsNullOrWhiteSpace(body.Reason)) throw new ValidationFailedException("reason", "reason is required to reject: the partner is told why.");
        if (body.Reason?.Length > 2000) throw new ValidationFailedException("reason", "reason takes at most 2000 characters.");
        var found = await LoadVisibleAsync(caller, dealId, ct);
        await RequireReviewerAsync(caller, found.Value, ct);
        return await TransitionAsync(caller, dealId, ct, (deal, now) =>
        {
            var extension = deal.Extensions.FirstOrDefault(e => e.Id == extensionId) ?? throw new NotFoundException("Extension request");
            if (extension.Status != "Pending") throw new ConflictException($"Already decided ({extension.Status}) by {extension.DecidedByName} at {extension.DecidedAt?.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}.", "decision");
            if (deal.Status != DealStatus.Approved) throw new ConflictException($"The registration is {deal.Status}; its protection can no longer be extended.", "decision");
            var decided = extension with { Status = decision == "approve" ? "Approved" : "Rejected", DecidedByName = caller.DisplayName, DecidedAt = now, DecisionReason = body.Reason?.Trim() };
            var updated = deal with
            {
                Extensions = deal.Extensions.Select(e => e.Id == extensionId ? decided : e).ToList(),
                ProtectedUntil = decision == "approve" ? deal.ProtectedUntil!.Value.AddDays(extension.Days) : deal.ProtectedUntil,
                Decisions = [.. deal.Decisions, new DealDecision("extension." + decision, body.Reason?.Trim(), caller.UserId, caller.DisplayName, now)],
            };
            var outbox = new List<OutboxMessage> { Email("deal-extension-decided", deal.SubmittedByEmail, deal.SubmittedByName, updated, now, reason: body.Reason?.Trim(), extension: decided) };
            if (decision == "approve") outbox.Insert(0, OutboxMessage.ForEvent(DealEvents.Create(DealEvents.Extended, updated, now, extension.Reason)));
            return (updated, "deal.extension." + (decision == "approve" ? "approved" : "rejected"), outbox);
        });
    }

    /// <summary>Records the outcome (partner or channel manager): won (amount, close date) or lost (reason). Ends protection and releases the claim.</summary>
    public async Task<Versioned<DealDto>> RecordOutcomeAsync(Caller caller, string dealId, DealOutcomeRequest? body, CancellationToken ct)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var result = body.Result?.Trim();
        var errors = new Dictionary<string, string[]>();
        if (result is not ("won" or "lost")) errors["result"] = ["result must be won or lost."];
        if (result == "won")
        {
            var v = new FluentValidation.InlineValidator<DealOutcomeRequest>();
            v.RuleFor(x => x.Amount).ValidMoney("amount");
            v.RuleFor(x => x.CloseDate).NotEmpty().WithMessage("closeDate is required for a won deal.").IsoDate();
            v.RuleFor(x => x.CloseDate).Must(d => MdfRules.ParseDate(d) is not { } date || date <= DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime.AddDays(1)))
                .WithMessage("closeDate of a won deal cannot be in the future.");
            foreach (var failure in v.Validate(body).Errors) errors[failure.PropertyName.Length == 0 ? "amount" : char.ToLowerInvariant(failure.PropertyName[0]) + failure.PropertyName[1..]] = [failure.ErrorMessage];
        }
        if (result == "lost" && string.IsNullOrWhiteSpace(body.Reason)) errors["reason"] = ["reason is required for a lost deal."];
        if (body.Reason?.Length > 2000) errors["reason"] = ["reason takes at most 2000 characters."];
        if (errors.Count > 0) throw new ValidationFailedException(errors);
        var found = await LoadVisibleAsync(caller, dealId, ct);
        if (caller.IsVendor) await RequireReviewerAsync(caller, found.Value, ct);
        else RequirePartnerOwner(caller, found.Value);
        return await TransitionAsync(caller, dealId, ct, (deal, now) =>
        {
            if (result == "won" && deal.Status != DealStatus.Approved) throw new ConflictException($"Only an approved registration can be won; this one is {deal.Status}.", "result");
            if (deal.Status is not (DealStatus.Approved or DealStatus.UnderReview or DealStatus.Returned)) throw new ConflictException($"A {deal.Status} registration has no open outcome.", "result");
            if (result == "won" && body.Amount!.Currency != deal.EstimatedValue.Currency)
                throw new ValidationFailedException("amount.currency", $"amount.currency must be {deal.EstimatedValue.Currency}, the currency of the registration.", unprocessable: true);
            var outcome = new DealOutcome(result!, result == "won" ? body.Amount!.ToMoney().Round() : null, MdfRules.ParseDate(body.CloseDate), body.Reason?.Trim(), caller.DisplayName, now);
            var updated = deal with { Status = result == "won" ? DealStatus.Won : DealStatus.Lost, Outcome = outcome, ClaimKey = null, Conflict = deal.Conflict with { ClaimHeld = false } };
            return (updated, "deal." + result, [OutboxMessage.ForEvent(DealEvents.Create(result == "won" ? DealEvents.Won : DealEvents.Lost, updated, now, outcome.Reason))]);
        });
    }

    /// <summary>A partner's dashboard counters (members, the owning channel manager, admins).</summary>
    public async Task<DealStats> StatsAsync(Caller caller, string partnerId, CancellationToken ct)
    {
        await PartnerAccess.LoadVisibleAsync(partners, caller, partnerId, ct);
        return await store.StatsAsync(partnerId, ct);
    }

    public async Task<DealWorkflowState?> StateAsync(string dealId, CancellationToken ct) =>
        (await store.GetAsync(dealId, ct))?.Value is { } d ? new DealWorkflowState(d.Status.ToString(), d.SubmittedAt, d.ReviewRemindAt, d.ReviewEscalateAt, d.ProtectedUntil) : null;

    /// <summary>A deadline of the workflow passed. Idempotent: a step runs once per submission (review) or protection end (expiry).</summary>
    public async Task<string> RunDealStepAsync(string dealId, DealStep step, DateTimeOffset cycle, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var found = await store.GetAsync(dealId, ct);
            if (found is null) return "closed";
            var deal = found.Value;
            var review = step is DealStep.ReviewRemind or DealStep.ReviewEscalate;
            if (review && (deal.Status != DealStatus.UnderReview || deal.SubmittedAt != cycle)) return "closed";
            if (!review && (deal.Status != DealStatus.Approved || deal.ProtectedUntil != cycle)) return "closed";
            var action = "deal." + Text.Camel(step);
            var stamp = cycle.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
            if (deal.Decisions.Any(d => d.Decision == action && d.Reason == stamp)) return "done already";
            var now = clock.GetUtcNow();
            var rules = await RulesAsync(ct);
            var updated = deal with { Decisions = [.. deal.Decisions, new DealDecision(action, stamp, Caller.System.UserId, Caller.System.DisplayName, now)], ChannelManagerId = await ManagerOfAsync(deal, ct) };
            var outbox = new List<OutboxMessage>();
            switch (step)
            {
                case DealStep.ReviewRemind:
                    foreach (var reviewer in await ReviewersAsync(deal, ct)) outbox.Add(Email("deal-review-reminder", reviewer.Email, reviewer.DisplayName, deal, now, reviewerName: reviewer.DisplayName));
                    break;
                case DealStep.ReviewEscalate:
                    foreach (var admin in await AdminsAsync(ct))
                    {
                        var link = await links.IssueAsync(ReviewKind, deal.Id, Recipient(admin), ["approve", "reject", "return"], now + rules.DecisionLinkValidFor, ct);
                        outbox.Add(Email("deal-review-escalated", admin.Email, admin.DisplayName, deal, now, reviewerName: admin.DisplayName, decisionUrl: link));
                    }
                    break;
                case DealStep.ExpiryFirstReminder:
                case DealStep.ExpirySecondReminder:
                    outbox.Add(Email("deal-expiring", deal.SubmittedByEmail, deal.SubmittedByName, deal, now));
                    break;
                case DealStep.Expire:
                    updated = updated with { Status = DealStatus.Expired, ClaimKey = null, Conflict = deal.Conflict with { ClaimHeld = false }, UpdatedAt = now };
                    outbox.Add(OutboxMessage.ForEvent(DealEvents.Create(DealEvents.Expired, updated, now)));
                    outbox.Add(Email("deal-expired", deal.SubmittedByEmail, deal.SubmittedByName, updated, now));
                    foreach (var reviewer in await ReviewersAsync(deal, ct, adminsWhenUnassigned: false)) outbox.Add(Email("deal-expired", reviewer.Email, reviewer.DisplayName, updated, now));
                    break;
            }
            try
            {
                await store.UpdateAsync(updated, found.ETag, new ChangeSet([Entry(Caller.System, now, action, deal.Id, Diff.Between(deal.Snapshot(), updated.Snapshot()))], outbox), ct);
                if (step == DealStep.Expire && deal.ClaimKey is not null) await store.ReleaseClaimAsync(deal.ClaimKey, deal.Id, ct);
                return step == DealStep.Expire ? "expired" : action;
            }
            catch (PreconditionFailedException) when (attempt < 5)
            {
            }
        }
    }

    /// <summary>The registration a decision link is about, as its recipient sees it (404 when the recipient may no longer see it).</summary>
    public async Task<Versioned<DealDto>> ForLinkAsync(DecisionLink link, CancellationToken ct) =>
        await GetAsync(DecisionLinks.RecipientOf(link), link.SubjectId.Split('|')[0], ct);

    // ---- the submission: conflict check, claim, rules ----

    private async Task<(Deal Deal, List<OutboxMessage> Outbox)> SubmitCoreAsync(Deal deal, Partner partner, DealSettings rules, DateTimeOffset now, CancellationToken ct)
    {
        var customer = deal.Customer;
        var normalized = new NormalizedCustomer(customer.Domain, customer.NameKey, customer.Country, deal.Products, customer.BlockingKeys) { PartnerId = partner.Id };
        var indexed = await store.CandidatesAsync(customer.Domain, customer.BlockingKeys, ct);
        var lookback = now.AddDays(-rules.WonLookbackDays);
        var usable = new List<(IndexedCustomer Source, ConflictCandidate Candidate)>();
        foreach (var row in indexed.Where(r => r.Id != deal.Id).DistinctBy(r => r.Kind + "|" + r.Id))
        {
            ConflictCandidateKind? kind = row.Kind switch
            {
                "house" => ConflictCandidateKind.HouseAccount,
                "deal" when row.Status == nameof(DealStatus.UnderReview) || (row.Status == nameof(DealStatus.Approved) && row.ProtectedUntil > now) => ConflictCandidateKind.ActiveRegistration,
                "deal" when row.Status == nameof(DealStatus.Won) && row.WonAt >= lookback => ConflictCandidateKind.RecentlyWonDeal,
                _ => null,
            };
            if (kind is { } k) usable.Add((row, new ConflictCandidate(k, row.PartnerId, row.Domain, row.NameKey, row.Country, row.Products)));
        }
        var assessment = ConflictEngine.Assess(normalized, usable.Select(u => u.Candidate).ToList(), rules.Conflict);
        var claimKey = ClaimKeyOf(customer);
        // Always through the claim row: it, not the registration's memory of it, says who holds the customer.
        var claimHeld = await store.TryClaimAsync(claimKey, deal.Id, partner.Id, ct);
        var level = assessment.Level;
        var score = assessment.Score;
        var evidence = assessment.Evidence.ToList();
        if (!claimHeld)
        {
            level = ConflictLevel.Certain;
            score = 100;
            evidence.Insert(0, "Another registration claimed this customer first; this one goes to review.");
        }
        var house = assessment.Matches.Any(m => m.Kind == ConflictCandidateKind.HouseAccount && m.Level >= ConflictLevel.Likely);
        var conflict = new DealConflict(Text.Camel(level), score, evidence, assessment.Matches.Select(m => usable[m.CandidateIndex].Source.Id).Distinct().ToList(), house, claimHeld);
        var maxLevel = Text.ParseEnum<ConflictLevel>(rules.AutoApproveMaxConflictLevel) ?? ConflictLevel.None;
        var auto = rules.AutoApprovalEnabled && claimHeld && !house && level <= maxLevel && level != ConflictLevel.Certain
            && deal.EstimatedValue.Currency == program.ProgramCurrency && deal.EstimatedValue.Amount <= rules.AutoApproveMaxValue
            && rules.AutoApproveTiers.Contains(Text.Camel(partner.Tier));
        var submitted = deal with
        {
            SubmittedAt = now,
            Conflict = conflict,
            ClaimKey = claimHeld ? claimKey : null,
            UpdatedAt = now,
        };
        var outbox = new List<OutboxMessage>();
        if (auto)
        {
            submitted = submitted with
            {
                Status = DealStatus.Approved, ApprovedAt = now, ProtectedUntil = now + rules.ProtectionPeriod, ReviewRemindAt = null, ReviewEscalateAt = null,
                Decisions = [.. deal.Decisions, new DealDecision("auto-approve", "The program's auto-approval rules allow it.", Caller.System.UserId, Caller.System.DisplayName, now)],
            };
            outbox.Add(OutboxMessage.ForEvent(DealEvents.Create(DealEvents.Submitted, submitted, now, latest: false)));
            outbox.Add(OutboxMessage.ForEvent(DealEvents.Create(DealEvents.Approved, submitted, now)));
            outbox.Add(Email("deal-approved", deal.SubmittedByEmail, deal.SubmittedByName, submitted, now));
        }
        else
        {
            submitted = submitted with { Status = DealStatus.UnderReview, ReviewRemindAt = now + rules.ReviewReminderAfter, ReviewEscalateAt = now + rules.ReviewEscalateAfter };
            outbox.Add(OutboxMessage.ForEvent(DealEvents.Create(DealEvents.Submitted, submitted, now)));
            outbox.Add(Email("deal-under-review", deal.SubmittedByEmail, deal.SubmittedByName, submitted, now));
            foreach (var reviewer in await ReviewersAsync(submitted, ct))
            {
                var link = await links.IssueAsync(ReviewKind, deal.Id, Recipient(reviewer), ["approve", "reject", "return"], now + rules.DecisionLinkValidFor, ct);
                outbox.Add(Email("deal-review", reviewer.Email, reviewer.DisplayName, submitted, now, reviewerName: reviewer.DisplayName, decisionUrl: link));
            }
        }
        return (submitted, outbox);
    }

    // ---- helpers ----

    private async Task<Versioned<DealDto>> ReplayAsync(Caller caller, string dealId, CancellationToken ct)
    {
        var found = await store.GetAsync(dealId, ct) ?? throw new NotFoundException("Deal");
        if (found.Value.SubmittedBy != caller.UserId) throw new ConflictException("This Idempotency-Key was used by someone else.", "Idempotency-Key");
        return new Versioned<DealDto>(DealDto.From(found.Value, caller.IsVendor), found.ETag);
    }

    private delegate (Deal Updated, string Action, List<OutboxMessage> Outbox) Change(Deal deal, DateTimeOffset now);

    /// <summary>Loads, changes and commits a deal with its timeline entry; re-applies the change to a fresh copy when someone wrote meanwhile.</summary>
    private async Task<Versioned<DealDto>> TransitionAsync(Caller caller, string dealId, CancellationToken ct, Change change, Func<Deal, DateTimeOffset, List<OutboxMessage>, Task>? more = null)
    {
        var found = await LoadVisibleAsync(caller, dealId, ct);
        for (var attempt = 1; ; attempt++)
        {
            var now = clock.GetUtcNow();
            var (updated, action, outbox) = change(found.Value, now);
            updated = updated with { UpdatedAt = now, ChannelManagerId = await ManagerOfAsync(updated, ct) };
            if (more is not null) await more(updated, now, outbox);
            var releases = found.Value.ClaimKey is { } held && updated.ClaimKey is null ? held : null;
            try
            {
                var etag = await store.UpdateAsync(updated, found.ETag, new ChangeSet([Entry(caller, now, action, dealId, Diff.Between(found.Value.Snapshot(), updated.Snapshot()))], outbox), ct);
                if (releases is not null) await store.ReleaseClaimAsync(releases, dealId, ct);
                return new Versioned<DealDto>(DealDto.From(updated, caller.IsVendor), etag);
            }
            catch (PreconditionFailedException) when (attempt < 5)
            {
                found = await store.GetAsync(dealId, ct) ?? throw new NotFoundException("Deal");
            }
        }
    }

    /// <summary>A deal the caller may see, or 404 (also for another company's well-formed id, without a storage read).</summary>
    private async Task<Versioned<Deal>> LoadVisibleAsync(Caller caller, string dealId, CancellationToken ct)
    {
        var partnerId = DealIds.PartnerOf(dealId) ?? throw new NotFoundException("Deal");
        if (caller.PartnerId is not null && caller.PartnerId != partnerId) throw new NotFoundException("Deal");
        if (caller.PartnerId is null && !caller.IsVendor) throw new NotFoundException("Deal");
        var found = await store.GetAsync(dealId, ct) ?? throw new NotFoundException("Deal");
        var deal = found.Value;
        if (caller.PartnerId is not null && caller.PartnerRole != PartnerRole.PartnerAdmin && deal.SubmittedBy != caller.UserId) throw new NotFoundException("Deal");
        if (caller.PartnerId is null && deal.Status == DealStatus.Draft) throw new NotFoundException("Deal"); // drafts are the partner's own until submitted
        if (caller.PartnerId is null && !caller.IsAdmin)
        {
            // Who owns the partner decides access: read it, never a cached copy.
            var partner = (await partners.GetAsync(partnerId, ct))?.Value;
            if (partner?.ChannelManagerId != caller.UserId) throw new NotFoundException("Deal");
        }
        return found;
    }

    private static void RequirePartnerOwner(Caller caller, Deal deal)
    {
        if (caller.PartnerId != deal.PartnerId || (caller.PartnerRole != PartnerRole.PartnerAdmin && caller.UserId != deal.SubmittedBy))
            throw new ForbiddenException("Only the registering user and the partner's admins change a registration.");
    }

    private async Task RequireReviewerAsync(Caller caller, Deal deal, CancellationToken ct)
    {
        if (caller.IsAdmin) return;
        if (caller.IsChannelManager && (await partners.GetAsync(deal.PartnerId, ct))?.Value.ChannelManagerId == caller.UserId) return;
        throw new ForbiddenException("Only the partner's channel manager and program admins decide registrations.");
    }

    private async Task<IReadOnlyList<string>> CheckProductsAsync(IReadOnlyList<string> ids, CancellationToken ct)
    {
        var known = (await productLines.AllAsync(ct)).Where(l => l.Active).Select(l => l.Id).ToHashSet(StringComparer.Ordinal);
        var errors = new Dictionary<string, string[]>();
        for (var i = 0; i < ids.Count; i++)
        {
            if (!known.Contains(ids[i].Trim())) errors[$"products[{i}]"] = [$"'{ids[i]}' is not an active product line; see GET /api/product-lines."];
        }
        if (errors.Count > 0) throw new ValidationFailedException(errors, string.Join(" ", errors.Select(e => e.Value[0])), unprocessable: true);
        return ids.Select(i => i.Trim()).Distinct(StringComparer.Ordinal).ToList();
    }

    private static DealCustomer? Customer(DealCustomerInput input)
    {
        var nameKey = CustomerNormalizer.CompanyNameKey(input.CompanyName);
        return new DealCustomer(input.CompanyName!.Trim(), CustomerNormalizer.RegistrableDomain(input.Domain), input.Country!.Trim(), input.ContactName?.Trim(),
            Text.NormalizeEmail(input.ContactEmail), nameKey, CustomerNormalizer.BlockingKeys(nameKey));
    }

    /// <summary>The key a registration claims: the customer's registrable domain, else its normalized name.</summary>
    public static string ClaimKeyOf(DealCustomer customer) => customer.Domain is { } domain ? "d:" + domain : "n:" + customer.NameKey;

    /// <summary>The partner's status, tier and channel manager, cached per instance and refreshed in the background (see <see cref="RefreshingCache{TKey,TValue}"/>).</summary>
    private Task<Partner?> PartnerAsync(string partnerId, CancellationToken ct) =>
        partnerCache.GetAsync(partnerId, async token => (await partners.GetAsync(partnerId, token))?.Value, ct);

    /// <summary>Forgets the cached copy of a partner (its owner, tier or status changed on this instance).</summary>
    public void ForgetPartner(string partnerId) => partnerCache.Remove(partnerId);

    /// <summary>The partner's current channel manager (a reassignment moves the registrations' list rows with their next change).</summary>
    private async Task<string?> ManagerOfAsync(Deal deal, CancellationToken ct) => (await PartnerAsync(deal.PartnerId, ct))?.ChannelManagerId ?? deal.ChannelManagerId;

    private Task<DealSettings> RulesAsync(CancellationToken ct) => settings.GetAsync<DealSettings>(DealSettings.SectionName, ct);

    private async Task<IReadOnlyList<StaffMember>> ReviewersAsync(Deal deal, CancellationToken ct, bool adminsWhenUnassigned = true)
    {
        var partner = await PartnerAsync(deal.PartnerId, ct);
        var managerId = partner?.ChannelManagerId ?? deal.ChannelManagerId;
        if (managerId is not null && await staff.GetAsync(managerId, ct) is { } manager) return [manager];
        return adminsWhenUnassigned ? await AdminsAsync(ct) : [];
    }

    private async Task<IReadOnlyList<StaffMember>> AdminsAsync(CancellationToken ct) => (await staff.ListAsync(ct)).Where(s => s.Roles.Contains(AppRoles.Admin)).ToList();

    private static Caller Recipient(StaffMember member) => new(member.Id, member.Email, member.DisplayName, member.Roles, null, null);

    private static AuditEntry Entry(Caller caller, DateTimeOffset now, string action, string dealId, IReadOnlyList<FieldChange> changes, string? note = null) =>
        new(Ids.New("aud"), now, caller.UserId, caller.DisplayName, action, "deal", dealId, changes, note);

    private OutboxMessage Email(string template, string to, string? toName, Deal deal, DateTimeOffset now, string? reviewerName = null, string? reason = null, string? decisionUrl = null, DealExtension? extension = null)
    {
        static string Format(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) ?? "";
        var message = emails.Compose(template, to, toName, new
        {
            userName = toName,
            reviewerName,
            partnerName = deal.PartnerName,
            submittedByName = deal.SubmittedByName,
            registrationNumber = deal.RegistrationNumber,
            customerName = deal.Customer.CompanyName,
            customerDomain = deal.Customer.Domain ?? "",
            country = deal.Customer.Country,
            value = deal.EstimatedValue.ToString(),
            closeDate = deal.ExpectedCloseDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            conflictLevel = deal.Conflict.Level,
            evidence = deal.Conflict.Evidence.Count == 0 ? "No conflicting registration found." : string.Join(" ", deal.Conflict.Evidence),
            protectedUntil = Format(deal.ProtectedUntil),
            remindAt = Format(deal.ReviewRemindAt),
            reason,
            extensionDays = extension?.Days,
            extensionReason = extension?.Reason,
            extensionStatus = extension is null ? null : extension.Status == "Approved" ? "approved" : extension.Status == "Rejected" ? "rejected" : "requested",
            dealUrl = $"{program.PortalBaseUrl.TrimEnd('/')}/deals/{deal.Id}",
            reviewUrl = decisionUrl ?? $"{program.PortalBaseUrl.TrimEnd('/')}/vendor/deals/{deal.Id}",
        });
        return OutboxMessage.ForEmail(Ids.New("msg"), message, now, deal.PartnerId, Correlation.Id);
    }
}
