using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Prm.Core.Approvals;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Onboarding;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Tests.Onboarding;

/// <summary>The decision path with in-memory stores: every side effect of a decision follows the commit that wins.</summary>
public class DecideApplicationTests
{
    private static readonly Caller Manager = Make.ChannelManager("usr_cm1");

    private sealed class Services
    {
        public Services()
        {
            Clock = new FakeTimeProvider(Make.Now);
            Partners = new FakePartnerStore();
            Applications = new FakeApplicationStore();
            var staff = new FakeStaffStore(
                new StaffMember("usr_cm1", "cm@vendor.com", "Carl Manager", [AppRoles.ChannelManager], "emea"),
                new StaffMember("usr_admin", "admin@vendor.com", "Ada Admin", [AppRoles.Admin], null));
            var program = new ProgramOptions();
            var emails = new EmailComposer();
            var links = new DecisionLinks(new FakeDecisionLinkStore(), Clock, program);
            var settings = new ProgramSettings(new NoSavedSettings(), [OnboardingSettings.Section(new OnboardingSettings(), staff, new NoDocuments())], Clock, program);
            var directory = new PartnerDirectory(Partners, staff, Clock, emails);
            var agreements = new PartnerAgreements(Partners, staff, new NoDocuments(), links, emails, Clock, settings);
            var commits = new ApplicationCommits(Applications, new ApplicationNotices(staff, links, emails));
            FromApplication = new PartnerFromApplication(Partners, Applications, directory, agreements, settings, staff);
            Decide = new DecideApplication(commits, FromApplication, settings, program, Clock);
            Projection = new ApplicationPartnerProjection(Applications, FromApplication);
        }

        public FakeTimeProvider Clock { get; }
        public FakePartnerStore Partners { get; }
        public FakeApplicationStore Applications { get; }
        public PartnerFromApplication FromApplication { get; }
        public DecideApplication Decide { get; }
        public ApplicationPartnerProjection Projection { get; }

        public Task<Versioned<ApplicationDto>> DecideAsync(string decision, string? reason = null) =>
            Decide.DecideAsync(Manager, ApplicationTransitionTests.Application().Id, new ApplicationDecisionRequest(decision, reason, null), CancellationToken.None);
    }

    private static Services WithApplication()
    {
        var services = new Services();
        services.Applications.Add(ApplicationTransitionTests.Application());
        return services;
    }

    private static readonly string PartnerId = PartnerApplication.PartnerIdOf(ApplicationTransitionTests.Application().Id);

    [Fact]
    public async Task An_approval_that_loses_to_a_rejection_creates_no_partner_and_gives_its_reservation_back()
    {
        var s = WithApplication();
        // A rejection through another request commits between the approval's read and its commit.
        s.Applications.BeforeUpdate = current => current.Reject(new ApplicationDecision("reject", "Not a fit", "usr_admin", "Ada Admin", Make.Now)).Application;

        var act = () => s.DecideAsync("approve");

        (await act.Should().ThrowAsync<ConflictException>()).Which.Message.Should().Contain("Already decided (reject) by Ada Admin");
        s.Applications.Current.Status.Should().Be(ApplicationStatus.Rejected);
        (await s.Partners.GetAsync(PartnerId, CancellationToken.None)).Should().BeNull("only the approval that commits creates the partner");
        s.Partners.Reservations.Should().BeEmpty("the losing approval gave its reservation back");
    }

    [Fact]
    public async Task The_approval_commits_first_then_creates_the_partner_it_names()
    {
        var s = WithApplication();
        var partnerAtCommit = "not committed";
        s.Applications.BeforeUpdate = current =>
        {
            partnerAtCommit = s.Partners.GetAsync(PartnerId, CancellationToken.None).Result is null ? "absent" : "present";
            return null;
        };

        var approved = await s.Decide.DecideAsync(Manager, ApplicationTransitionTests.Application().Id, new ApplicationDecisionRequest("approve", "Strong fit", "silver"), CancellationToken.None);

        partnerAtCommit.Should().Be("absent", "nothing of the approval exists before its commit");
        approved.Value.PartnerId.Should().Be(PartnerId);
        var partner = (await s.Partners.GetAsync(PartnerId, CancellationToken.None))!.Value;
        partner.Status.Should().Be(PartnerStatus.AgreementPending);
        partner.Tier.Should().Be(PartnerTier.Silver);
        partner.ChannelManagerId.Should().Be("usr_cm1");
        (await s.Partners.GetUserAsync(PartnerId, PartnerApplication.AdminUserIdOf(approved.Value.Id), CancellationToken.None))!.Value.Email.Should().Be("alex@contoso.com");

        // The outbox delivers application.approved too: it finds the partner created and creates nothing.
        var writes = s.Partners.Writes;
        await s.Projection.ApplyAsync(ApplicationEvents.Create(ApplicationEvents.Approved, s.Applications.Current, Make.Now), CancellationToken.None);
        s.Partners.Writes.Should().Be(writes);
    }

    [Fact]
    public async Task When_the_creation_after_the_commit_fails_the_outbox_creates_the_partner_once()
    {
        var s = WithApplication();
        s.Partners.FailCreates = 1;

        var approved = await s.DecideAsync("approve");

        approved.Value.Status.Should().Be(nameof(ApplicationStatus.Approved), "the committed decision stands");
        (await s.Partners.GetAsync(PartnerId, CancellationToken.None)).Should().BeNull();
        var approvedEvent = ApplicationEvents.Create(ApplicationEvents.Approved, s.Applications.Current, Make.Now);
        await s.Projection.ApplyAsync(approvedEvent, CancellationToken.None);
        await s.Projection.ApplyAsync(approvedEvent, CancellationToken.None); // delivered twice
        (await s.Partners.GetAsync(PartnerId, CancellationToken.None)).Should().NotBeNull();
        (await s.Partners.ListAsync(new PartnerQuery(null, null, null, null, null), new PageRequest(50, null), CancellationToken.None)).Items.Should().ContainSingle();
    }

    [Fact]
    public async Task A_failed_approval_giving_the_keys_back_while_another_approval_commits_leaves_them_held_for_its_partner()
    {
        var s = WithApplication();
        var application = s.Applications.Current;
        await s.FromApplication.ReserveAsync(application, CancellationToken.None);
        // The failed approval reads the application (under review); right after, the other approval of the same application commits.
        s.Applications.AfterGet = () => s.Applications.Add(application.Approve(new ApplicationDecision("approve", null, "usr_admin", "Ada Admin", Make.Now), PartnerTier.Silver).Application);

        await s.FromApplication.ReleaseUnlessApprovedAsync(application.Id, CancellationToken.None);

        s.Partners.Reservations.Should().ContainKey(application.Company.Domain).WhoseValue.Should().Be(PartnerId, "the keys belong to the approved application's partner");
    }

    [Fact]
    public async Task A_domain_that_belongs_to_a_partner_refuses_the_approval_and_the_application_stays_open()
    {
        var s = WithApplication();
        s.Partners.Add(Make.Partner(domain: "contoso.com"));

        var act = () => s.DecideAsync("approve");

        (await act.Should().ThrowAsync<ConflictException>()).Which.Field.Should().Be("domain");
        s.Applications.Current.Status.Should().Be(ApplicationStatus.UnderReview);
        s.Partners.Reservations.Should().BeEmpty();
    }

    [Fact]
    public async Task A_rejection_or_expiry_delivered_by_the_outbox_gives_back_a_reservation_left_behind()
    {
        var s = WithApplication();
        // An approval reserved, then its process died before it committed; the application was rejected later.
        await s.FromApplication.ReserveAsync(s.Applications.Current, CancellationToken.None);
        await s.DecideAsync("reject", "Outside our markets");
        s.Partners.Reservations.Should().NotBeEmpty();

        await s.Projection.ApplyAsync(ApplicationEvents.Create(ApplicationEvents.Rejected, s.Applications.Current, Make.Now), CancellationToken.None);

        s.Partners.Reservations.Should().BeEmpty();
    }

    /// <summary>One application with an ETag; <see cref="BeforeUpdate"/> may commit a concurrent change (once) before the next update lands.</summary>
    private sealed class FakeApplicationStore : IApplicationStore
    {
        private Versioned<PartnerApplication>? current;
        private int etags;

        public Func<PartnerApplication, PartnerApplication?>? BeforeUpdate { get; set; }

        public PartnerApplication Current => current!.Value;

        public void Add(PartnerApplication application) => current = new(application, NextETag());

        public async Task<string> CreateAsync(PartnerApplication application, ChangeSet changes, CancellationToken ct, Task? alongside = null)
        {
            if (alongside is not null) await alongside;
            Add(application);
            return current!.ETag;
        }

        /// <summary>Runs once after a read returned (a concurrent change that lands right after someone read the application).</summary>
        public Action? AfterGet { get; set; }

        public Task<Versioned<PartnerApplication>?> GetAsync(string applicationId, CancellationToken ct)
        {
            var found = current?.Value.Id == applicationId ? current : null;
            if (AfterGet is { } after)
            {
                AfterGet = null;
                after();
            }
            return Task.FromResult(found);
        }

        public async Task<string> UpdateAsync(PartnerApplication application, string etag, ChangeSet changes, CancellationToken ct, Task? alongside = null, TaskCompletionSource? committed = null)
        {
            try
            {
                if (alongside is not null) await alongside;
                if (BeforeUpdate is { } before)
                {
                    BeforeUpdate = null;
                    if (before(current!.Value) is { } concurrent) current = new(concurrent, NextETag());
                }
                if (current!.ETag != etag) throw new PreconditionFailedException("Stale.");
                current = new(application, NextETag());
            }
            catch (Exception ex)
            {
                committed?.TrySetException(ex);
                throw;
            }
            committed?.TrySetResult();
            return current.ETag;
        }

        public Task<Page<PartnerApplication>> ListAsync(string? assigneeId, ApplicationStatus? status, PageRequest page, CancellationToken ct) => throw new NotSupportedException();

        public Task<Page<AuditEntry>> TimelineAsync(string applicationId, PageRequest page, CancellationToken ct) => throw new NotSupportedException();

        public Task<(int Current, int Previous)> CountAttemptAsync(string key, CancellationToken ct) => throw new NotSupportedException();

        public Task<string?> FindOpenByDomainAsync(string domain, CancellationToken ct) => throw new NotSupportedException();
        public Task<bool> CountSubmissionOnceAsync(string applicationId, CancellationToken ct) => throw new NotSupportedException();
        public Task ForgetSubmissionAsync(string applicationId, CancellationToken ct) => throw new NotSupportedException();

        private string NextETag() => "\"" + Interlocked.Increment(ref etags) + "\"";
    }

    private sealed class FakeDecisionLinkStore : IDecisionLinkStore
    {
        private readonly ConcurrentDictionary<string, DecisionLink> links = new();

        public Task CreateAsync(DecisionLink link, CancellationToken ct)
        {
            links[link.TokenHash] = link;
            return Task.CompletedTask;
        }

        public Task<Versioned<DecisionLink>?> GetAsync(string tokenHash, CancellationToken ct) =>
            Task.FromResult(links.TryGetValue(tokenHash, out var link) ? new Versioned<DecisionLink>(link, "\"1\"") : null);

        public Task<string?> ReplaceAsync(DecisionLink link, string etag, CancellationToken ct) => throw new NotSupportedException();
    }

    private sealed class NoSavedSettings : ISettingsStore
    {
        public Task<Versioned<string>?> GetAsync(string section, CancellationToken ct) => Task.FromResult<Versioned<string>?>(null);

        public Task<string> SaveAsync(string section, string json, string? etag, AuditEntry audit, CancellationToken ct) => throw new NotSupportedException();

        public Task<Page<AuditEntry>> TimelineAsync(PageRequest page, CancellationToken ct) => throw new NotSupportedException();
    }

    private sealed class NoDocuments : IAgreementDocuments
    {
        public Task<AgreementDocument> GetAsync(string version, CancellationToken ct) => throw new NotSupportedException();

        public Task<bool> ExistsAsync(string version, CancellationToken ct) => Task.FromResult(true);

        public Task<AgreementDocument> UploadAsync(string version, byte[] text, CancellationToken ct) => throw new NotSupportedException();
    }
}
