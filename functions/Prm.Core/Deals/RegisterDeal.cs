using System.Security.Cryptography;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Mdf;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Deals;

/// <summary>
/// A partner registers a deal (or saves a draft), edits a draft or returned registration, and submits it: the conflict check runs against
/// the conflict index, the first registration of a customer takes its claim, and the program's rules approve it at once or send it to review.
/// </summary>
public sealed class RegisterDeal(IDealStore store, DealPartners partners, DealCommits commits, DealNotices notices, ProductLines productLines,
    IMdfStore fundRequests, ProgramSettings settings, ProgramOptions program, TimeProvider clock)
{
    /// <summary>Registers a deal (or saves a draft). Returns the registration and whether it was created now (false: an Idempotency-Key replay).</summary>
    /// <param name="leadId">The lead this registration converts (set by lead conversion only, never by a request body).</param>
    public async Task<(Versioned<DealDto> Deal, bool Created)> RegisterAsync(Caller caller, RegisterDealRequest? body, string? idempotencyKey, CancellationToken ct, string? leadId = null)
    {
        if (caller.PartnerId is not { } partnerId) throw new ForbiddenException("Deals are registered by partner users.");
        if (idempotencyKey is not null && (idempotencyKey.Length is 0 or > 200)) throw new ValidationFailedException("Idempotency-Key", "The Idempotency-Key header takes 1 to 200 characters.");
        var idempotency = idempotencyKey is null ? null : Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(caller.UserId + "\n" + idempotencyKey)))[..32];
        if (idempotency is not null && await store.FindByIdempotencyAsync(partnerId, idempotency, ct) is { } existingId)
        {
            return (await ReplayAsync(caller, existingId, ct), false);
        }
        var request = Validate.Body(body, new RegisterDealValidator(clock));
        // The catalog, the partner and the fund request named are independent reads: side by side.
        var productsChecked = CheckProductsAsync(request.Products!, ct);
        var partnerRead = ActivePartnerAsync(partnerId, ct);
        var fundRequestChecked = CheckFundRequestAsync(request.MdfRequestId, partnerId, ct);
        await Task.WhenAll(productsChecked, partnerRead, fundRequestChecked);
        var products = await productsChecked;
        var partner = await partnerRead;
        var now = clock.GetUtcNow();
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
            Customer = Customer(request.Customer!),
            Products = products,
            EstimatedValue = request.EstimatedValue!.ToMoney().Round(),
            ExpectedCloseDate = MdfRules.ParseDate(request.ExpectedCloseDate)!.Value,
            Notes = request.Notes?.Trim(),
            MdfRequestId = await fundRequestChecked,
            LeadId = leadId,
            CreatedAt = now,
            Conflict = new DealConflict("none", 0, [], [], false, false),
            UpdatedAt = now,
        };
        var change = request.Draft == true ? new DealChange(draft, "deal.drafted", [], []) : await SubmitAsync(draft, partner, now, ct);
        var deal = change.Deal;
        try
        {
            var outbox = await notices.OutboxAsync(deal, change, now, ct);
            var audit = DealCommits.Entry(caller, now, change.Action, deal.Id, Diff.Between(null, deal.Snapshot()), change.Note);
            var etag = await store.CreateAsync(deal, idempotency, new Partners.ChangeSet([audit], outbox), ct);
            if (request.Draft != true) PrmTelemetry.CountDealRegistered(deal.Conflict.Level, deal.Status.ToString());
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

    /// <summary>Edits a Draft or Returned registration (If-Match); only present fields change.</summary>
    public async Task<Versioned<DealDto>> EditAsync(Caller caller, string dealId, string? ifMatch, RegisterDealRequest? body, CancellationToken ct)
    {
        var found = await commits.LoadAsync(caller, dealId, DealOperation.Change, ct);
        if (string.IsNullOrEmpty(ifMatch)) throw new PreconditionFailedException("PATCH requires an If-Match header with the deal's ETag.", required: true);
        var request = Validate.Body(body, new RegisterDealValidator(clock, partial: true));
        var deal = found.Value;
        if (!deal.CanBeSubmitted) throw new ConflictException($"A {deal.Status} registration cannot be edited; only Draft and Returned ones can.", "status");
        var c = request.Customer;
        var customer = c is null ? deal.Customer : Customer(new DealCustomerInput(c.CompanyName ?? deal.Customer.CompanyName, c.Domain ?? deal.Customer.Domain, c.Country ?? deal.Customer.Country,
            c.ContactName ?? deal.Customer.ContactName, c.ContactEmail ?? deal.Customer.ContactEmail));
        var now = clock.GetUtcNow();
        var change = deal.Edit(customer,
            request.Products is null ? deal.Products : await CheckProductsAsync(request.Products, ct),
            request.EstimatedValue is null ? deal.EstimatedValue : request.EstimatedValue.ToMoney().Round(),
            MdfRules.ParseDate(request.ExpectedCloseDate) ?? deal.ExpectedCloseDate,
            request.Notes is null ? deal.Notes : request.Notes.Trim(),
            request.MdfRequestId is null ? deal.MdfRequestId : await CheckFundRequestAsync(request.MdfRequestId, deal.PartnerId, ct),
            now);
        if (change is null) return new Versioned<DealDto>(DealDto.From(deal, caller.IsVendor), found.ETag);
        var (updated, etag) = await commits.CommitAsync(caller, found with { ETag = ifMatch }, change, now, ct);
        return new Versioned<DealDto>(DealDto.From(updated, caller.IsVendor), etag);
    }

    /// <summary>Submits a Draft or resubmits a Returned registration: the conflict check, the claim and the rules run again.</summary>
    public async Task<Versioned<DealDto>> SubmitAsync(Caller caller, string dealId, CancellationToken ct)
    {
        var found = await commits.LoadAsync(caller, dealId, DealOperation.Change, ct);
        var deal = found.Value;
        if (!deal.CanBeSubmitted) throw new ConflictException($"A {deal.Status} registration cannot be submitted; only Draft and Returned ones can.", "status");
        var partner = await ActivePartnerAsync(deal.PartnerId, ct);
        var now = clock.GetUtcNow();
        var change = await SubmitAsync(deal with { ChannelManagerId = partner.ChannelManagerId }, partner, now, ct);
        try
        {
            var (submitted, etag) = await commits.CommitAsync(caller, found, change, now, ct);
            PrmTelemetry.CountDealRegistered(submitted.Conflict.Level, submitted.Status.ToString());
            return new Versioned<DealDto>(DealDto.From(submitted, caller.IsVendor), etag);
        }
        catch
        {
            if (change.Deal.ClaimKey is { } claimed && deal.ClaimKey != claimed) await store.ReleaseClaimAsync(claimed, deal.Id, CancellationToken.None);
            throw;
        }
    }

    /// <summary>The submission: candidates from the conflict index, the assessment, the claim (always through the claim row), the rules.</summary>
    private async Task<DealChange> SubmitAsync(Deal deal, Partner partner, DateTimeOffset now, CancellationToken ct)
    {
        var rules = await settings.GetAsync<DealSettings>(DealSettings.SectionName, ct);
        var customer = deal.Customer;
        var normalized = new NormalizedCustomer(customer.Domain, customer.NameKey, customer.Country, deal.Products, customer.BlockingKeys) { PartnerId = partner.Id };
        var claimKey = Deal.ClaimKeyOf(customer);
        // The conflict candidates and the customer's claim row are independent: side by side. The claim row, not the registration's
        // memory of it, says who holds the customer.
        var claiming = store.TryClaimAsync(claimKey, deal.Id, partner.Id, ct);
        var candidates = store.CandidatesAsync(customer.Domain, customer.BlockingKeys, ct);
        try
        {
            await Task.WhenAll(claiming, candidates);
        }
        catch when (claiming.IsCompletedSuccessfully && claiming.Result)
        {
            await store.ReleaseClaimAsync(claimKey, deal.Id, CancellationToken.None);
            throw;
        }
        var indexed = await candidates;
        var claimHeld = await claiming;
        var lookback = now.AddDays(-rules.WonLookbackDays);
        var usable = new List<(IndexedCustomer Source, ConflictCandidate Candidate)>();
        foreach (var row in indexed.Where(r => r.Id != deal.Id).DistinctBy(r => r.Kind + "|" + r.Id))
        {
            // First come, first served: the claim's holder is not sent to review by a registration that was assessed after it and
            // counted it as its conflict (one that lost the claim to it, indexed before this one's read came back).
            if (claimHeld && row.MatchedDealIds?.Contains(deal.Id, StringComparer.Ordinal) == true) continue;
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
        var level = assessment.Level;
        var score = assessment.Score;
        var evidence = assessment.Evidence.ToList();
        var matched = assessment.Matches.Select(m => usable[m.CandidateIndex].Source.Id).Distinct().ToList();
        if (!claimHeld)
        {
            level = ConflictLevel.Certain;
            score = 100;
            evidence.Insert(0, "Another registration claimed this customer first; this one goes to review.");
            // The holder is named first among the matches (the reviewer sees which registration was first; the index keeps it, so the
            // holder's own assessment does not count this one).
            if (await store.ClaimHolderAsync(claimKey, ct) is { } holder && holder != deal.Id)
            {
                matched.Remove(holder);
                matched.Insert(0, holder);
            }
        }
        var house = assessment.Matches.Any(m => m.Kind == ConflictCandidateKind.HouseAccount && m.Level >= ConflictLevel.Likely);
        var conflict = new DealConflict(Text.Camel(level), score, evidence, matched, house, claimHeld);
        // Read after the assessment (cached per instance): nothing is added before the conflict look-up.
        var tiers = await settings.GetAsync<Tiers.TierSettings>(Tiers.TierSettings.SectionName, ct);
        var auto = AutoApproval.Allows(rules, program.ProgramCurrency, partner.Tier, level, claimHeld, house, deal.EstimatedValue, tiers.Find(partner.Tier)?.Benefits.DealAutoApprovalLimit);
        return deal.Submit(conflict, claimHeld ? claimKey : null, auto, rules, now);
    }

    private async Task<Partner> ActivePartnerAsync(string partnerId, CancellationToken ct)
    {
        var partner = await partners.GetAsync(partnerId, ct) ?? throw new NotFoundException("Partner");
        if (partner.Status != PartnerStatus.Active) throw new ConflictException($"The partner is {partner.Status}; only active partners register deals.");
        return partner;
    }

    private async Task<Versioned<DealDto>> ReplayAsync(Caller caller, string dealId, CancellationToken ct)
    {
        var found = await store.GetAsync(dealId, ct) ?? throw new NotFoundException("Deal");
        if (found.Value.SubmittedBy != caller.UserId) throw new ConflictException("This Idempotency-Key was used by someone else.", "Idempotency-Key");
        return new Versioned<DealDto>(DealDto.From(found.Value, caller.IsVendor), found.ETag);
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

    /// <summary>
    /// A registration names the fund request that generated it (MDF attribution): it must be a fund request of the same partner, otherwise
    /// 422 — the same answer for another partner's id, an unknown one and garbage, so nothing about other partners shows.
    /// </summary>
    private async Task<string?> CheckFundRequestAsync(string? mdfRequestId, string partnerId, CancellationToken ct)
    {
        var id = mdfRequestId?.Trim();
        if (string.IsNullOrEmpty(id)) return null;
        var found = Ids.LooksLike(id, "mdr") ? await fundRequests.GetRequestAsync(id, ct) : null;
        if (found?.Request.PartnerId != partnerId)
            throw new ValidationFailedException("mdfRequestId", "mdfRequestId must be the id of a fund request of your company (see GET /api/mdf/requests).", unprocessable: true);
        return id;
    }

    private static DealCustomer Customer(DealCustomerInput input)
    {
        var nameKey = CustomerNormalizer.CompanyNameKey(input.CompanyName);
        return new DealCustomer(input.CompanyName!.Trim(), CustomerNormalizer.RegistrableDomain(input.Domain), input.Country!.Trim(), input.ContactName?.Trim(),
            Text.NormalizeEmail(input.ContactEmail), nameKey, CustomerNormalizer.BlockingKeys(nameKey));
    }
}
