using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Onboarding;

/// <summary>
/// Abuse limits of the public form (configuration section "Onboarding"). Operational protection tuned by operators like the other
/// app settings, not a program rule admins change, so they stay options outside <see cref="OnboardingSettings"/>.
/// </summary>
public sealed class SubmissionLimits
{
    public const string SectionName = "Onboarding";

    /// <summary>Applications per applicant email per hour.</summary>
    public int MaxPerEmailPerHour { get; set; } = 3;

    /// <summary>Applications per client IP per hour.</summary>
    public int MaxPerIpPerHour { get; set; } = 20;
}

/// <summary>
/// The public "become a partner" form: rate limits per email and address, validation, screening (flags and duplicate matches for the
/// reviewer, never a rejection at the door, and the fit score), assignment of a reviewer, and the application under review with its
/// deadlines. The applicant gets a receipt with a signed status link, the reviewers the application with decision links.
/// </summary>
public sealed class SubmitApplication(IApplicationStore store, IPartnerStore partners, IStaffStore staff, ApplicationCommits commits, ProgramSettings settings, SubmissionLimits limits, TimeProvider clock)
{
    private static readonly SubmitApplicationValidator Validator = new();

    /// <summary>
    /// Takes an application from the public form. Returns the application and the applicant's status URL. With an Idempotency-Key, the
    /// application's id follows from the applicant's email and the key: a retry (also one racing the first) returns the application the
    /// first created with a fresh status link, counts against no limit and sends no second receipt.
    /// </summary>
    /// <param name="apiBaseUrl">The API's base URL as the applicant reached it (the status link points there).</param>
    public async Task<(PartnerApplication Application, string StatusUrl)> SubmitAsync(SubmitApplicationRequest? body, string? clientIp, string apiBaseUrl, string? idempotencyKey, CancellationToken ct)
    {
        if (idempotencyKey is not null && (idempotencyKey.Length is 0 or > 200)) throw new ValidationFailedException("Idempotency-Key", "The Idempotency-Key header takes 1 to 200 characters.");
        var request = Validate.Body(body, Validator);
        var email = Text.NormalizeEmail(request.Applicant!.Email)!;
        var domain = Text.NormalizeDomain(request.Company!.Domain)!;
        var idempotentId = idempotencyKey is null ? null
            : "app_" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("application\n" + email + "\n" + idempotencyKey)))[..32];
        if (idempotentId is not null && await ReplayAsync(idempotentId, apiBaseUrl, ct) is { } replayed) return replayed;
        var type = Text.ParseEnum<PartnerType>(request.Company.PartnerType)!.Value;
        // The limits, the rules, the screening reads and the reviewers are independent: they run side by side (a refused submission
        // wasted a few reads, nothing was written for it).
        var limited = LimitsAsync(email, clientIp, idempotentId, ct);
        var rulesRead = settings.GetAsync<OnboardingSettings>(OnboardingSettings.SectionName, ct);
        var staffRead = staff.ListAsync(ct);
        var facts = ScreeningFactsAsync(request, domain, ct);
        await Task.WhenAll(limited, rulesRead, staffRead, facts);
        var rules = await rulesRead;
        var screening = Screen(request, domain, email, type, rules, await facts);
        var staffList = await staffRead;
        var assignee = Assign(staffList, request.Company.Country!, request.Company.Region, rules);

        var now = clock.GetUtcNow();
        var id = idempotentId ?? Ids.New("app");
        var secret = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var application = new PartnerApplication
        {
            Id = id,
            Status = ApplicationStatus.UnderReview,
            Company = new ApplicantCompany(request.Company.LegalName!.Trim(), request.Company.Website, domain, request.Company.Country!, request.Company.Region,
                request.Company.SizeBand, request.Company.Industries?.Select(i => i.Trim()).ToList() ?? [], type),
            Applicant = new ApplicantPerson(request.Applicant.Name!.Trim(), email, request.Applicant.Phone, request.Applicant.JobTitle),
            ExpectedAnnualRevenueBand = request.ExpectedAnnualRevenueBand,
            AcceptedTermsVersion = request.AcceptedTermsVersion!,
            AcceptedPrivacyVersion = request.AcceptedPrivacyVersion!,
            SubmittedAt = now,
            ClientIp = clientIp,
            Screening = screening,
            AssigneeId = assignee?.Id,
            Deadlines = rules.ReviewDeadlinesFrom(now),
            StatusTokenHash = InvitationCodes.Hash(secret),
        };
        var statusUrl = StatusUrl(apiBaseUrl, id, secret);
        try
        {
            // The reviewers come from the staff read above: no second read of them before the commit.
            await commits.CreateAsync(application.Submitted(), now, new ApplicantLinks(StatusUrl: statusUrl), ct, staffList);
        }
        catch (ConflictException) when (idempotentId is not null)
        {
            // A retry with the same key committed first (the loser's transaction failed whole: no receipt, no reviewer links).
            if (await ReplayAsync(idempotentId, apiBaseUrl, ct) is { } replay) return replay;
            throw;
        }
        return (application, statusUrl);
    }

    private static string StatusUrl(string apiBaseUrl, string id, string secret) =>
        $"{apiBaseUrl.TrimEnd('/')}/partner-applications/{id}/status?token={Uri.EscapeDataString($"{id}.{secret}")}";

    /// <summary>The application an earlier submission with the same key created, with a fresh status link (null when there is none).</summary>
    private async Task<(PartnerApplication Application, string StatusUrl)?> ReplayAsync(string applicationId, string apiBaseUrl, CancellationToken ct) =>
        await ReadDecideCommit.RunAsync<(PartnerApplication, string)?>(async _ =>
        {
            if (await store.GetAsync(applicationId, ct) is not { } found) return null;
            var secret = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
            var now = clock.GetUtcNow();
            var change = found.Value.StatusLinkReissued(InvitationCodes.Hash(secret));
            await commits.CommitAsync(ApplicationCommits.ApplicantOf(found.Value), found, change, now, null, ct);
            return (change.Application, StatusUrl(apiBaseUrl, applicationId, secret));
        }, ct: ct);

    /// <summary>Only the first send of a key counts against the limits: retries racing it (not committed yet, so no replay) do not.</summary>
    private async Task LimitsAsync(string email, string? clientIp, string? idempotentId, CancellationToken ct)
    {
        if (idempotentId is not null && !await store.CountSubmissionOnceAsync(idempotentId, ct)) return;
        try
        {
            var perEmail = LimitAsync("email:" + email, limits.MaxPerEmailPerHour, "applications from this email address", ct);
            var perAddress = string.IsNullOrEmpty(clientIp) ? Task.CompletedTask : LimitAsync("ip:" + clientIp, limits.MaxPerIpPerHour, "applications from this network address", ct);
            await Task.WhenAll(perEmail, perAddress);
        }
        catch (TooManyRequestsException) when (idempotentId is not null)
        {
            await store.ForgetSubmissionAsync(idempotentId, ct);
            throw;
        }
    }

    /// <summary>What the screening looks up: the partner owning the domain, an open application for it, partners with a similar name.</summary>
    private sealed record ScreeningFacts(string? PartnerId, string? OpenApplicationId, IReadOnlyList<Partner> Similar);

    private async Task<ScreeningFacts> ScreeningFactsAsync(SubmitApplicationRequest request, string domain, CancellationToken ct)
    {
        var owner = partners.FindByDomainAsync(domain, ct);
        var open = store.FindOpenByDomainAsync(domain, ct);
        var prefix = Text.NameKey(request.Company!.LegalName!).Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        var similar = prefix is { Length: >= 4 } ? partners.ListAsync(new PartnerQuery(null, null, null, null, prefix), new PageRequest(5, null), ct) : null;
        await Task.WhenAll(new Task?[] { owner, open, similar }.OfType<Task>());
        return new ScreeningFacts(await owner, await open, similar is null ? [] : (await similar).Items);
    }

    private static Screening Screen(SubmitApplicationRequest request, string domain, string email, PartnerType type, OnboardingSettings rules, ScreeningFacts facts)
    {
        var flags = ApplicationScreening.AddressFlags(domain, email);
        var matches = new List<string>();
        if (facts.PartnerId is { } partnerId)
        {
            flags.Add("domainBelongsToPartner");
            matches.Add($"partner {partnerId} owns the domain {domain}");
        }
        if (facts.OpenApplicationId is { } openId)
        {
            flags.Add("openApplicationForDomain");
            matches.Add($"application {openId} for {domain} is still open");
        }
        foreach (var p in facts.Similar.Where(p => p.Domain != domain))
        {
            if (!flags.Contains("similarPartnerName")) flags.Add("similarPartnerName");
            matches.Add($"partner {p.Id} ({p.Name}, {p.Domain}) has a similar name");
        }
        var (score, reasons) = ApplicationScreening.Fit(rules, request.Company!.Country!, type, request.ExpectedAnnualRevenueBand);
        return new Screening(flags, matches, score, reasons);
    }

    /// <summary>The reviewer: the first assignment rule for the country, else for the region, else the channel manager of the region; null means the admins.</summary>
    private static StaffMember? Assign(IReadOnlyList<StaffMember> all, string country, string? region, OnboardingSettings rules)
    {
        StaffMember? Manager(string id) => all.FirstOrDefault(s => s.Id == id && s.Roles.Contains(AppRoles.ChannelManager));
        foreach (var rule in rules.Assignments.Where(r => r.Country == country)) if (Manager(rule.ChannelManagerId) is { } m) return m;
        if (region is null) return null;
        foreach (var rule in rules.Assignments.Where(r => r.Region == region)) if (Manager(rule.ChannelManagerId) is { } m) return m;
        return all.Where(s => s.Roles.Contains(AppRoles.ChannelManager) && s.Region == region).OrderBy(s => s.Id, StringComparer.Ordinal).FirstOrDefault();
    }

    /// <summary>
    /// At most <paramref name="limit"/> attempts per rolling hour, estimated as a sliding window: this hour's count plus the previous
    /// hour's, weighted by the part of it that still lies within the last 60 minutes (so the top of the hour opens no fresh budget).
    /// </summary>
    private async Task LimitAsync(string key, int limit, string what, CancellationToken ct)
    {
        var (current, previous) = await store.CountAttemptAsync(key, ct);
        var now = clock.GetUtcNow();
        var hourStart = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        var elapsed = (now - hourStart).TotalHours;
        if (current + previous * (1 - elapsed) > limit)
        {
            // The estimate falls back within the limit once enough of the previous hour slid out of the window (or at the next hour).
            var until = previous > 0 && current <= limit ? hourStart.AddHours(1 - (limit - current) / (double)previous) : hourStart.AddHours(1);
            throw new TooManyRequestsException($"At most {limit} {what} per hour; try again later.", until > now ? until - now : TimeSpan.FromSeconds(1));
        }
    }
}
