using System.Text.Json;
using Prm.Core.Common;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Settings;

namespace Prm.Core.Onboarding;

/// <summary>
/// What happens when an application is approved: the partner it becomes — AgreementPending, the chosen tier, owned by the assignee (else
/// the region's channel manager), the applicant invited as its first partner admin and offered the agreement. Every side effect follows
/// the commit that wins:
/// <list type="number">
/// <item>Before the approval commits, the partner is checked as its creation would check it, and its domain and the applicant's email are
/// reserved for the partner id the application derives (<see cref="PartnerApplication.PartnerIdOf"/>), so what would refuse the
/// partner refuses the approval (409/422) and the application stays open.</item>
/// <item>The approval commits with its ETag; a decision that loses the race gives the reservation back and creates nothing.</item>
/// <item>The partner is created from the committed application right after the commit, and again from the outbox (application.approved)
/// when that was cut short: both name the same partner, so it is created once.</item>
/// </list>
/// </summary>
public sealed class PartnerFromApplication(IPartnerStore partners, IApplicationStore applications, PartnerDirectory directory, PartnerAgreements agreements, ProgramSettings settings,
    IStaffStore staff)
{
    /// <summary>Refuses an approval whose partner could not be created (an owner that is no channel manager, a name or domain the directory refuses).</summary>
    /// <param name="staffList">All staff, when the caller read them already (the channel manager comes from them).</param>
    public Task CheckAsync(PartnerApplication application, PartnerTier tier, CancellationToken ct, IReadOnlyList<StaffMember>? staffList = null) =>
        directory.CheckNewAsync(Request(application, tier), ct, staffList);

    /// <summary>All staff (the partner's channel manager comes from them): for a caller that reads them beside its other reads.</summary>
    public Task<IReadOnlyList<StaffMember>> StaffAsync(CancellationToken ct) => staff.ListAsync(ct);

    /// <summary>Reserves the partner's domain and the applicant's email for the partner the application's approval names (409 when taken).</summary>
    public Task ReserveAsync(PartnerApplication application, CancellationToken ct) => partners.ReserveAsync(Reservation(application), ct);

    /// <summary>Gives the reservation back unless the application (as stored now) is approved: for an approval that lost, a rejection or an expiry.</summary>
    public async Task ReleaseUnlessApprovedAsync(string applicationId, CancellationToken ct)
    {
        if (await applications.GetAsync(applicationId, ct) is not { } found || found.Value.Status == ApplicationStatus.Approved) return;
        var reservation = Reservation(found.Value);
        await partners.ReleaseAsync(reservation, ct);
        // A concurrent approval of the same application may have committed between the read and the release (its partner is created
        // holding the reservation): then the keys are its partner's, and are claimed again (the partner's creation does the same after
        // its commit, so whichever runs last leaves them held).
        if ((await applications.GetAsync(applicationId, ct))?.Value.Status == ApplicationStatus.Approved)
        {
            try
            {
                await partners.ReserveAsync(reservation, ct);
            }
            catch (ConflictException)
            {
                // Held again already (by the partner's creation), or taken by someone else in between: nothing more to do here.
            }
        }
    }

    /// <summary>Creates the partner of an approved application unless it exists (idempotent; concurrent calls create it once).</summary>
    /// <param name="justApproved">
    /// The request that makes the approval, which reserved the partner's keys and gives them back itself when the approval fails: the
    /// partner cannot exist yet unless the outbox raced this call, so the existence check is skipped and that rare race ends in the
    /// creation's conflict (an unused agreement link stays behind).
    /// </param>
    /// <param name="approval">
    /// The approval's commit, when it is still running: the partner's transaction waits for it (and fails when it fails), while the
    /// agreement link's row, the outbox pointers and the key checks are written beside it. A failed approval leaves a link to nothing.
    /// </param>
    /// <param name="staffList">All staff, when the caller read them already.</param>
    public async Task EnsureCreatedAsync(PartnerApplication application, CancellationToken ct, bool justApproved = false, Task? approval = null, IReadOnlyList<StaffMember>? staffList = null)
    {
        if (application.Status != ApplicationStatus.Approved || application.PartnerId is not { } partnerId) return;
        var rulesRead = settings.GetAsync<OnboardingSettings>(OnboardingSettings.SectionName, ct);
        if (!justApproved && await partners.GetAsync(partnerId, ct) is not null) return;
        var rules = await rulesRead;
        var adminId = PartnerApplication.AdminUserIdOf(application.Id);
        var request = Request(application, application.Tier ?? PartnerTier.Registered);
        // The agreement offer (its link row, written beside the partner's outbox pointers) and the staff the channel manager comes from
        // are independent: side by side.
        var linkWrites = new List<Task>();
        var offering = agreements.OfferAsync(partnerId, request.Name!.Trim(), adminId, application.Applicant.Email, application.Applicant.Name,
            rules.AgreementDeadlinesFrom(application.Decisions.Last(d => d.Decision == "approve").DecidedAt).ExpiresAt, reminder: false, ct, linkWrites);
        var staffRead = staffList is not null ? Task.FromResult(staffList) : StaffForAsync(request.ChannelManagerId, ct);
        await Task.WhenAll(offering, staffRead);
        var offer = await offering;
        if (approval is not null) linkWrites.Add(approval);
        try
        {
            await directory.CreateApprovedAsync(request, partnerId, adminId, [offer], ct, await staffRead, Task.WhenAll(linkWrites), reserved: justApproved);
        }
        catch (ConflictException)
        {
            // Created meanwhile by the other path (the request and the outbox raced): nothing more to do.
            if (await partners.GetAsync(partnerId, ct) is null) throw;
        }
    }

    /// <summary>The named channel manager (none when unknown: the creation then refuses it), or all staff for assignment by region.</summary>
    private async Task<IReadOnlyList<StaffMember>> StaffForAsync(string? channelManagerId, CancellationToken ct) =>
        channelManagerId is null ? await staff.ListAsync(ct) : await staff.GetAsync(channelManagerId, ct) is { } member ? [member] : [];

    private static PartnerReservation Reservation(PartnerApplication a) =>
        new(PartnerApplication.PartnerIdOf(a.Id), a.Company.Domain, PartnerApplication.AdminUserIdOf(a.Id), a.Applicant.Email);

    private static CreatePartnerRequest Request(PartnerApplication a, PartnerTier tier) => new(
        a.Company.LegalName, a.Company.Domain, a.Company.Country, a.Company.Region ?? RegionOf(a.Company.Country),
        Text.Camel(tier), Text.Camel(a.Company.PartnerType), nameof(PartnerStatus.AgreementPending),
        a.AssigneeId, a.Company.Website, a.Applicant.Phone, null, null,
        new NewPartnerAdmin(a.Applicant.Email, a.Applicant.Name));

    private static string RegionOf(string country) => country is "US" or "CA" or "MX" or "BR" or "AR" or "CL" or "CO" ? "amer"
        : country is "AU" or "NZ" or "JP" or "CN" or "IN" or "SG" or "KR" or "HK" or "TW" ? "apac" : "emea";
}

/// <summary>
/// Completes what a decision committed when the request that made it was cut short (at least once, idempotent): an approved
/// application's partner is created; a rejected or expired application's reservation is given back.
/// </summary>
public sealed class ApplicationPartnerProjection(IApplicationStore applications, PartnerFromApplication partners) : IOutboxProjection
{
    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (e.Type is not (ApplicationEvents.Approved or ApplicationEvents.Rejected or ApplicationEvents.Expired)) return;
        var data = e.Data.Deserialize<ApplicationEvents.ApplicationData>(OutboxJson.Options)!;
        if (e.Type != ApplicationEvents.Approved)
        {
            await partners.ReleaseUnlessApprovedAsync(data.ApplicationId, ct);
            return;
        }
        if (await applications.GetAsync(data.ApplicationId, ct) is { } found) await partners.EnsureCreatedAsync(found.Value, ct);
    }
}
