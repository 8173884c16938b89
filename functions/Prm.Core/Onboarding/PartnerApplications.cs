using System.Globalization;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Core.Onboarding;

/// <summary>The review steps the workflow runs when a deadline passes.</summary>
public enum ReviewStep { Remind, Escalate, Expire }

/// <summary>The port the review workflow calls when a deadline passes.</summary>
public interface IApplicationReviewSteps
{
    /// <summary>Runs the step unless the application was decided; returns what was done ("closed" when nothing is left to do).</summary>
    Task<string> RunReviewStepAsync(string applicationId, ReviewStep step, CancellationToken ct);
}

/// <summary>Partner applications: the public form, screening, the vetting queue, decisions, and the review deadlines' steps.</summary>
public sealed class PartnerApplications(
    IApplicationStore store, IPartnerStore partners, IStaffStore staff, PartnerDirectory directory, EmailComposer emails,
    TimeProvider clock, ProgramOptions program, OnboardingOptions limits, Settings.ProgramSettings settings, Approvals.DecisionLinks links, PartnerAgreements agreements) : IApplicationReviewSteps
{
    private static readonly SubmitApplicationValidator Validator = new();

    /// <summary>Takes an application from the public form; screening flags never reject it. Returns the application and the applicant's status token.</summary>
    /// <param name="apiBaseUrl">The API's base URL as the applicant reached it (the status link points there).</param>
    public async Task<(PartnerApplication Application, string StatusUrl)> SubmitAsync(SubmitApplicationRequest? body, string? clientIp, string apiBaseUrl, CancellationToken ct)
    {
        var request = Validate.Body(body, Validator);
        var email = Text.NormalizeEmail(request.Applicant!.Email)!;
        var domain = Text.NormalizeDomain(request.Company!.Domain)!;
        await LimitAsync("email:" + email, limits.MaxPerEmailPerHour, "applications from this email address", ct);
        if (!string.IsNullOrEmpty(clientIp)) await LimitAsync("ip:" + clientIp, limits.MaxPerIpPerHour, "applications from this network address", ct);

        var now = clock.GetUtcNow();
        var id = Ids.New("app");
        var type = Text.ParseEnum<PartnerType>(request.Company.PartnerType)!.Value;
        var rules = await RulesAsync(ct);
        var screening = await ScreenAsync(request, domain, email, type, rules, ct);
        var assignee = await AssignAsync(request.Company.Country!, request.Company.Region, rules, ct);
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
            Deadlines = Deadlines(now, rules),
            StatusTokenHash = InvitationCodes.Hash(secret),
        };
        var statusUrl = $"{apiBaseUrl.TrimEnd('/')}/partner-applications/{id}/status?token={Uri.EscapeDataString($"{id}.{secret}")}";
        var outbox = new List<OutboxMessage>
        {
            OutboxMessage.ForEvent(ApplicationEvents.Create(ApplicationEvents.Submitted, application, now)),
            Email("application-received", application.Applicant.Email, application.Applicant.Name, application, statusUrl, now),
        };
        foreach (var reviewer in assignee is null ? await AdminsAsync(ct) : [assignee])
        {
            var link = await LinkAsync(application, reviewer, ct);
            outbox.Add(Email("application-assigned", reviewer.Email, reviewer.DisplayName, application, null, now, reviewer.DisplayName, decisionUrl: link));
        }
        var audit = new AuditEntry(Ids.New("aud"), now, "applicant", application.Applicant.Name, "application.submitted", "application", id, Diff.Between(null, application.Snapshot()),
            screening.Flags.Count == 0 ? null : "Flags: " + string.Join(", ", screening.Flags));
        await store.CreateAsync(application, new ChangeSet([audit], outbox), ct);
        return (application, statusUrl);
    }

    /// <summary>The vetting queue: channel managers see what is assigned to them, admins everything (or one assignee's).</summary>
    public async Task<Page<ApplicationDto>> ListAsync(Caller caller, string? status, string? assigneeId, PageRequest page, CancellationToken ct)
    {
        if (!caller.IsVendor) throw new ForbiddenException("Only program admins and channel managers review applications.");
        var statusValue = Text.ParseEnum<ApplicationStatus>(status);
        if (status is not null && statusValue is null) throw new ValidationFailedException("status", "status must be one of: " + string.Join(", ", Enum.GetNames<ApplicationStatus>()) + ".");
        if (!caller.IsAdmin && assigneeId is not null && assigneeId != caller.UserId) throw new ForbiddenException("Channel managers see the applications assigned to them.");
        var result = await store.ListAsync(caller.IsAdmin ? assigneeId : caller.UserId, statusValue, page, ct);
        return result.Map(ApplicationDto.From);
    }

    public async Task<Versioned<ApplicationDto>> GetAsync(Caller caller, string applicationId, CancellationToken ct)
    {
        var found = await LoadVisibleAsync(caller, applicationId, ct);
        return new Versioned<ApplicationDto>(ApplicationDto.From(found.Value), found.ETag);
    }

    public async Task<Page<AuditEntry>> TimelineAsync(Caller caller, string applicationId, PageRequest page, CancellationToken ct)
    {
        await LoadVisibleAsync(caller, applicationId, ct);
        return await store.TimelineAsync(applicationId, page, ct);
    }

    /// <summary>
    /// Approve (creates the partner, AgreementPending, with the applicant invited as its first partner admin), reject (final), or request
    /// information (the applicant gets a single-use link to answer until the info deadline; the review starts again with the answer).
    /// </summary>
    public async Task<Versioned<ApplicationDto>> DecideAsync(Caller caller, string applicationId, ApplicationDecisionRequest? body, CancellationToken ct)
    {
        var found = await LoadVisibleAsync(caller, applicationId, ct);
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        var decision = body.Decision?.Trim();
        if (decision is not ("approve" or "reject" or "requestInfo")) throw new ValidationFailedException("decision", "decision must be approve, reject or requestInfo.");
        var tier = Text.ParseEnum<PartnerTier>(body.Tier);
        if (body.Tier is not null && tier is null) throw new ValidationFailedException("tier", "tier must be one of: " + string.Join(", ", Enum.GetValues<PartnerTier>().Select(t => Text.Camel(t))) + ".");
        if (decision == "reject" && string.IsNullOrWhiteSpace(body.Reason)) throw new ValidationFailedException("reason", "reason is required to reject: the applicant is told why.");
        if (decision == "requestInfo" && string.IsNullOrWhiteSpace(body.Reason)) throw new ValidationFailedException("reason", "reason is required to request information: it is the question the applicant answers.");
        if (body.Reason?.Length > 2000) throw new ValidationFailedException("reason", "reason takes at most 2000 characters.");
        var application = found.Value;
        if (decision == "requestInfo" && application.Status == ApplicationStatus.InfoRequested)
        {
            throw new ConflictException($"Information was requested already and is due at {application.InfoDueAt?.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}; wait for the answer.", "decision");
        }
        if (!application.IsOpen)
        {
            var last = application.Decisions.LastOrDefault();
            throw new ConflictException(last is null
                ? $"The application is {application.Status} and can no longer be decided."
                : $"Already decided ({last.Decision}) by {last.DecidedByName} at {last.DecidedAt.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}.", "decision");
        }
        var now = clock.GetUtcNow();
        var record = new ApplicationDecision(decision, body.Reason?.Trim(), caller.UserId, caller.DisplayName, now);
        var outbox = new List<OutboxMessage>();
        var rules = await RulesAsync(ct);
        if (decision == "requestInfo") return await RequestInfoAsync(caller, found, record, rules, now, ct);
        string? partnerId = null;
        if (decision == "approve")
        {
            var partner = await directory.CreateAsync(Caller.System, new CreatePartnerRequest(
                application.Company.LegalName, application.Company.Domain, application.Company.Country, application.Company.Region ?? RegionOf(application),
                Text.Camel(tier ?? PartnerTier.Registered), Text.Camel(application.Company.PartnerType), nameof(PartnerStatus.AgreementPending),
                application.AssigneeId, application.Company.Website, application.Applicant.Phone, null, null,
                new NewPartnerAdmin(application.Applicant.Email, application.Applicant.Name)), ct);
            partnerId = partner.Value.Id;
            outbox.Add(Email("application-approved", application.Applicant.Email, application.Applicant.Name, application with { PartnerId = partnerId }, null, now, tier: Text.Camel(tier ?? PartnerTier.Registered)));
            outbox.Add(await agreements.OfferAsync(partnerId, partner.Value.Name, now + rules.AgreementExpiresAfter, reminder: false, ct));
        }
        else
        {
            outbox.Add(Email("application-rejected", application.Applicant.Email, application.Applicant.Name, application, null, now, reason: record.Reason));
        }
        // A review step (reminder, escalation) may write the application meanwhile: the decision is re-applied to the fresh copy.
        return await ReadDecideCommit.RunAsync(async attempt =>
        {
            if (attempt > 1)
            {
                found = await store.GetAsync(applicationId, ct) ?? throw new NotFoundException("Application");
                application = found.Value;
                if (!application.IsOpen) throw new ConflictException($"The application was {application.Status} meanwhile.", "decision");
            }
            var updated = application with
            {
                Status = decision == "approve" ? ApplicationStatus.Approved : ApplicationStatus.Rejected,
                PartnerId = partnerId ?? application.PartnerId,
                Decisions = [.. application.Decisions, record],
                InfoTokenHash = null,
            };
            var eventType = decision == "approve" ? ApplicationEvents.Approved : ApplicationEvents.Rejected;
            var messages = new List<OutboxMessage>(outbox) { OutboxMessage.ForEvent(ApplicationEvents.Create(eventType, updated, now, decision == "reject" ? record.Reason : null)) };
            var audit = new AuditEntry(Ids.New("aud"), now, caller.UserId, caller.DisplayName, "application." + (decision == "approve" ? "approved" : "rejected"), "application", application.Id,
                Diff.Between(application.Snapshot(), updated.Snapshot()), record.Reason);
            var etag = await store.UpdateAsync(updated, found.ETag, new ChangeSet([audit], messages), ct);
            return new Versioned<ApplicationDto>(ApplicationDto.From(updated), etag);
        }, 5, ct: ct);
    }

    /// <summary>What the applicant sees through the status link; a wrong token is 404.</summary>
    public async Task<ApplicationStatusDto> StatusAsync(string applicationId, string? token, CancellationToken ct)
    {
        var parts = token?.Split('.');
        if (parts is not { Length: 2 } || parts[0] != applicationId || !Ids.LooksLike(applicationId, "app")) throw new NotFoundException("Application");
        var found = await store.GetAsync(applicationId, ct);
        if (found is null || !InvitationCodes.Matches(parts[1], found.Value.StatusTokenHash)) throw new NotFoundException("Application");
        var a = found.Value;
        return new ApplicationStatusDto(a.Id, a.Status.ToString(), a.Company.LegalName, a.SubmittedAt, a.Status == ApplicationStatus.Rejected ? a.Decisions.LastOrDefault()?.Reason : null,
            a.Status == ApplicationStatus.InfoRequested ? a.InfoRequest : null, a.Status == ApplicationStatus.InfoRequested ? a.InfoDueAt : null);
    }

    private async Task<Versioned<ApplicationDto>> RequestInfoAsync(Caller caller, Versioned<PartnerApplication> found, ApplicationDecision record, OnboardingSettings rules, DateTimeOffset now, CancellationToken ct)
    {
        var application = found.Value;
        var secret = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var updated = application with
        {
            Status = ApplicationStatus.InfoRequested,
            InfoRequest = record.Reason,
            InfoAnswer = null,
            InfoDueAt = now + rules.InfoAnswerWithin,
            InfoTokenHash = InvitationCodes.Hash(secret),
            Decisions = [.. application.Decisions, record],
        };
        var answerUrl = $"{program.PortalBaseUrl.TrimEnd('/')}/applications/{application.Id}/info?token={Uri.EscapeDataString($"{application.Id}.{secret}")}";
        var outbox = new List<OutboxMessage>
        {
            OutboxMessage.ForEvent(ApplicationEvents.Create(ApplicationEvents.InfoRequested, updated, now, record.Reason)),
            Email("application-info-requested", application.Applicant.Email, application.Applicant.Name, updated, null, now, reviewerName: caller.DisplayName, reason: record.Reason, answerUrl: answerUrl),
        };
        var audit = new AuditEntry(Ids.New("aud"), now, caller.UserId, caller.DisplayName, "application.infoRequested", "application", application.Id,
            Diff.Between(application.Snapshot(), updated.Snapshot()), record.Reason);
        try
        {
            var etag = await store.UpdateAsync(updated, found.ETag, new ChangeSet([audit], outbox), ct);
            return new Versioned<ApplicationDto>(ApplicationDto.From(updated), etag);
        }
        catch (PreconditionFailedException)
        {
            throw new ConflictException("The application changed meanwhile (a reminder or another decision); read it again.", "decision");
        }
    }

    /// <summary>
    /// The applicant answers a request for information with the single-use token from the email: the application is under review again,
    /// with fresh review deadlines, and the reviewer gets the answer with new decision links. A wrong or used token is 404; past the due time 410.
    /// </summary>
    public async Task<ApplicationStatusDto> AnswerInfoAsync(string applicationId, ApplicationInfoAnswer? body, CancellationToken ct)
    {
        if (body is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        if (string.IsNullOrWhiteSpace(body.Answer)) throw new ValidationFailedException("answer", "answer is required.");
        if (body.Answer.Length > 5000) throw new ValidationFailedException("answer", "answer takes at most 5000 characters.");
        var parts = body.Token?.Split('.');
        if (parts is not { Length: 2 } || parts[0] != applicationId || !Ids.LooksLike(applicationId, "app")) throw new NotFoundException("Request for information");
        var found = await store.GetAsync(applicationId, ct);
        if (found is null || found.Value.InfoTokenHash is not { } hash || !InvitationCodes.Matches(parts[1], hash)) throw new NotFoundException("Request for information");
        var a = found.Value;
        var now = clock.GetUtcNow();
        if (a.Status != ApplicationStatus.InfoRequested) throw new ConflictException($"The application is {a.Status}; it no longer waits for an answer.", "token");
        if (a.InfoDueAt is { } due && due <= now) throw new Approvals.LinkExpiredException(due);
        var rules = await RulesAsync(ct);
        var record = new ApplicationDecision("infoAnswered", null, "applicant", a.Applicant.Name, now);
        var updated = a with
        {
            Status = ApplicationStatus.UnderReview,
            InfoAnswer = body.Answer.Trim(),
            InfoTokenHash = null,
            Deadlines = Deadlines(now, rules),
            Decisions = [.. a.Decisions, record],
        };
        var outbox = new List<OutboxMessage> { OutboxMessage.ForEvent(ApplicationEvents.Create(ApplicationEvents.InfoAnswered, updated, now)) };
        var assignee = a.AssigneeId is null ? null : await staff.GetAsync(a.AssigneeId, ct);
        foreach (var reviewer in assignee is null ? await AdminsAsync(ct) : [assignee])
        {
            outbox.Add(Email("application-info-answered", reviewer.Email, reviewer.DisplayName, updated, null, now, reviewer.DisplayName, decisionUrl: await LinkAsync(updated, reviewer, ct)));
        }
        var audit = new AuditEntry(Ids.New("aud"), now, "applicant", a.Applicant.Name, "application.infoAnswered", "application", a.Id, Diff.Between(a.Snapshot(), updated.Snapshot()));
        try
        {
            await store.UpdateAsync(updated, found.ETag, new ChangeSet([audit], outbox), ct);
        }
        catch (PreconditionFailedException)
        {
            throw new ConflictException("The application changed meanwhile; open the link again.", "token");
        }
        return new ApplicationStatusDto(a.Id, updated.Status.ToString(), a.Company.LegalName, a.SubmittedAt, null, null, null);
    }

    /// <summary>A review deadline passed: remind the assignee, escalate to admins, or expire the application. Idempotent; a decided application is left alone.</summary>
    public async Task<string> RunReviewStepAsync(string applicationId, ReviewStep step, CancellationToken ct)
    {
        var found = await store.GetAsync(applicationId, ct);
        if (found is null || !found.Value.IsOpen) return "closed";
        var a = found.Value;
        var now = clock.GetUtcNow();
        var action = step switch
        {
            ReviewStep.Remind => "application.reminded",
            ReviewStep.Escalate => "application.escalated",
            _ => "application.expired",
        };
        // A retried step sends nothing twice; an answered request for information starts a new review cycle with its own steps.
        var cycleStart = a.Decisions.ToList().FindLastIndex(d => d.Decision == "infoAnswered");
        if (a.Decisions.Skip(cycleStart + 1).Any(d => d.Decision == action)) return "done already";
        if (step != ReviewStep.Expire && a.Status == ApplicationStatus.InfoRequested) return "waiting for the applicant";
        var record = new ApplicationDecision(action, null, Caller.System.UserId, Caller.System.DisplayName, now);
        var outbox = new List<OutboxMessage>();
        var updated = a with { Decisions = [.. a.Decisions, record] };
        switch (step)
        {
            case ReviewStep.Remind:
                var assignee = a.AssigneeId is null ? null : await staff.GetAsync(a.AssigneeId, ct);
                foreach (var reviewer in assignee is null ? await AdminsAsync(ct) : [assignee])
                {
                    outbox.Add(Email("application-reminder", reviewer.Email, reviewer.DisplayName, a, null, now, reviewer.DisplayName));
                }
                break;
            case ReviewStep.Escalate:
                foreach (var admin in await AdminsAsync(ct))
                {
                    outbox.Add(Email("application-escalated", admin.Email, admin.DisplayName, a, null, now, admin.DisplayName, decisionUrl: await LinkAsync(a, admin, ct)));
                }
                break;
            case ReviewStep.Expire:
                updated = updated with { Status = ApplicationStatus.Expired };
                outbox.Add(OutboxMessage.ForEvent(ApplicationEvents.Create(ApplicationEvents.Expired, updated, now)));
                outbox.Add(Email("application-expired", a.Applicant.Email, a.Applicant.Name, a, null, now, unanswered: a.Status == ApplicationStatus.InfoRequested));
                break;
        }
        var audit = new AuditEntry(Ids.New("aud"), now, Caller.System.UserId, Caller.System.DisplayName, action, "application", a.Id, Diff.Between(a.Snapshot(), updated.Snapshot()));
        try
        {
            await store.UpdateAsync(updated, found.ETag, new ChangeSet([audit], outbox), ct);
        }
        catch (PreconditionFailedException)
        {
            return await RunReviewStepAsync(applicationId, step, ct); // decided or stepped meanwhile: look again
        }
        return action;
    }

    private async Task<Versioned<PartnerApplication>> LoadVisibleAsync(Caller caller, string applicationId, CancellationToken ct)
    {
        if (!caller.IsVendor || !Ids.LooksLike(applicationId, "app")) throw new NotFoundException("Application");
        var found = await store.GetAsync(applicationId, ct);
        if (found is null || !(caller.IsAdmin || found.Value.AssigneeId == caller.UserId)) throw new NotFoundException("Application");
        return found;
    }

    private async Task<Screening> ScreenAsync(SubmitApplicationRequest request, string domain, string email, PartnerType type, OnboardingSettings rules, CancellationToken ct)
    {
        var flags = ApplicationScreening.AddressFlags(domain, email);
        var matches = new List<string>();
        if (await partners.FindByDomainAsync(domain, ct) is { } partnerId)
        {
            flags.Add("domainBelongsToPartner");
            matches.Add($"partner {partnerId} owns the domain {domain}");
        }
        if (await store.FindOpenByDomainAsync(domain, ct) is { } openId)
        {
            flags.Add("openApplicationForDomain");
            matches.Add($"application {openId} for {domain} is still open");
        }
        var nameKey = Text.NameKey(request.Company!.LegalName!);
        var prefix = nameKey.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        if (prefix is { Length: >= 4 })
        {
            var similar = await partners.ListAsync(new PartnerQuery(null, null, null, null, prefix), new PageRequest(5, null), ct);
            foreach (var p in similar.Items.Where(p => p.Domain != domain))
            {
                if (!flags.Contains("similarPartnerName")) flags.Add("similarPartnerName");
                matches.Add($"partner {p.Id} ({p.Name}, {p.Domain}) has a similar name");
            }
        }
        var (score, reasons) = ApplicationScreening.Fit(rules, request.Company.Country!, type, request.ExpectedAnnualRevenueBand);
        return new Screening(flags, matches, score, reasons);
    }

    /// <summary>A decision link for a reviewer, valid until the application expires.</summary>
    private Task<string> LinkAsync(PartnerApplication a, StaffMember reviewer, CancellationToken ct) =>
        links.IssueAsync(DecisionKind, a.Id, new Caller(reviewer.Id, reviewer.Email, reviewer.DisplayName, reviewer.Roles, null, null), ["approve", "reject", "requestInfo"], a.Deadlines.ExpiresAt, ct);

    /// <summary>The kind of decision link of an application review.</summary>
    public const string DecisionKind = "applicationReview";

    /// <summary>The reviewer: the first assignment rule for the country, else for the region, else the channel manager of the region; null means the admins.</summary>
    private async Task<StaffMember?> AssignAsync(string country, string? region, OnboardingSettings rules, CancellationToken ct)
    {
        var all = await staff.ListAsync(ct);
        StaffMember? Manager(string id) => all.FirstOrDefault(s => s.Id == id && s.Roles.Contains(AppRoles.ChannelManager));
        foreach (var rule in rules.Assignments.Where(r => r.Country == country)) if (Manager(rule.ChannelManagerId) is { } m) return m;
        if (region is null) return null;
        foreach (var rule in rules.Assignments.Where(r => r.Region == region)) if (Manager(rule.ChannelManagerId) is { } m) return m;
        return all.Where(s => s.Roles.Contains(AppRoles.ChannelManager) && s.Region == region).OrderBy(s => s.Id, StringComparer.Ordinal).FirstOrDefault();
    }

    private Task<OnboardingSettings> RulesAsync(CancellationToken ct) => settings.GetAsync<OnboardingSettings>(OnboardingSettings.SectionName, ct);

    private static ReviewDeadlines Deadlines(DateTimeOffset from, OnboardingSettings rules) =>
        new(from + rules.ReviewReminderAfter, from + rules.ReviewEscalateAfter, from + rules.ReviewExpiresAfter);

    private async Task<IReadOnlyList<StaffMember>> AdminsAsync(CancellationToken ct) => (await staff.ListAsync(ct)).Where(s => s.Roles.Contains(AppRoles.Admin)).ToList();

    private async Task LimitAsync(string key, int limit, string what, CancellationToken ct)
    {
        var count = await store.CountAttemptAsync(key, ct);
        if (count > limit)
        {
            var now = clock.GetUtcNow();
            var nextHour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(1);
            throw new TooManyRequestsException($"At most {limit} {what} per hour; try again later.", nextHour - now);
        }
    }

    private static string RegionOf(PartnerApplication a) => a.Company.Country is "US" or "CA" or "MX" or "BR" or "AR" or "CL" or "CO" ? "amer"
        : a.Company.Country is "AU" or "NZ" or "JP" or "CN" or "IN" or "SG" or "KR" or "HK" or "TW" ? "apac" : "emea";

    private OutboxMessage Email(string template, string to, string? toName, PartnerApplication a, string? statusUrl, DateTimeOffset now, string? reviewerName = null, string? reason = null, string? tier = null, string? decisionUrl = null, string? answerUrl = null, bool unanswered = false)
    {
        string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        var message = emails.Compose(template, to, toName, new
        {
            applicantName = a.Applicant.Name,
            reviewerName,
            companyName = a.Company.LegalName,
            domain = a.Company.Domain,
            country = a.Company.Country,
            fitScore = a.Screening.FitScore,
            flags = string.Join(", ", a.Screening.Flags),
            remindAt = Format(a.Deadlines.RemindAt),
            escalateAt = Format(a.Deadlines.EscalateAt),
            expiresAt = Format(a.Deadlines.ExpiresAt),
            expiryDays = (int)Math.Ceiling((a.Deadlines.ExpiresAt - a.SubmittedAt).TotalDays),
            statusUrl = statusUrl ?? $"{program.PortalBaseUrl.TrimEnd('/')}/applications/{a.Id}",
            reviewUrl = decisionUrl ?? $"{program.PortalBaseUrl.TrimEnd('/')}/vendor/applications/{a.Id}",
            reason,
            tier,
            answerUrl,
            unanswered,
            infoRequest = a.InfoRequest,
            infoAnswer = a.InfoAnswer,
            infoDueAt = a.InfoDueAt is { } due ? Format(due) : null,
        });
        return OutboxMessage.ForEmail(Ids.New("msg"), message, now, null, Correlation.Id);
    }
}
