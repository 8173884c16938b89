using Microsoft.Extensions.Logging.Abstractions;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Identity;
using Prm.Core.Partners;
using Prm.Core.Tiers;
using Prm.Storage.Deals;
using Prm.Storage.Portal;
using Prm.Storage.Tiers;

namespace Prm.Storage.Tests;

/// <summary>The portal home's combined reads: each is one storage round trip and returns only what it names.</summary>
public sealed class PortalHomeStoreTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 20, 10, 0, 0, TimeSpan.Zero);

    private static Deal Deal(string partnerId, DealStatus status, string submittedBy, decimal amount, DateTimeOffset? protectedUntil = null) => new()
    {
        Id = DealIds.New(partnerId, At),
        RegistrationNumber = DealIds.RegistrationNumber(At),
        PartnerId = partnerId,
        PartnerName = "P",
        SubmittedBy = submittedBy,
        SubmittedByName = "X",
        SubmittedByEmail = "x@p.example",
        Status = status,
        Customer = new DealCustomer("Acme", "acme.example", "DE", null, null, "acme", ["t-acme"]),
        Products = ["cloud-backup"],
        EstimatedValue = new Money(amount, "EUR"),
        ExpectedCloseDate = new DateOnly(2026, 12, 30),
        CreatedAt = At,
        SubmittedAt = At,
        ApprovedAt = status == DealStatus.Approved ? At : null,
        ProtectedUntil = protectedUntil,
        Conflict = new DealConflict("none", 0, [], [], false, true),
        UpdatedAt = At,
    };

    [Fact]
    public async Task The_partner_partition_is_one_query_with_profile_certifications_users_and_the_last_visit_and_a_rep_gets_no_users()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner("Home Rows GmbH");
        var admin = Make.User(partner.Id, role: PartnerRole.PartnerAdmin) with { Status = PartnerUserStatus.Active };
        var invited = Make.User(partner.Id);
        await s.CreateAsync(partner, admin, invited);
        var tiers = new TableTierStore(s.Tables, s.Writer, s.Store);
        var certs = new CertificationFacts();
        certs.Awards["crt_1"] = new HeldAward("crt_1", admin.Id, "sales", "associate", At.AddDays(400), At.AddDays(370), "Sales Associate", "Anna");
        await tiers.SaveCertificationsAsync(partner.Id, certs, null, CancellationToken.None);
        var home = new TablePortalHomeStore(s.Tables);
        await home.RecordVisitAsync(partner.Id, admin.Id, At, CancellationToken.None);

        var scope = StorageCalls.BeginScope();
        var rows = await home.PartnerRowsAsync(partner.Id, admin.Id, withUsers: true, CancellationToken.None);
        scope.Value.Should().Be(1);
        rows.Partner!.Name.Should().Be("Home Rows GmbH");
        rows.Certifications!.Awards["crt_1"].ExpiresAt.Should().Be(At.AddDays(370));
        rows.Users.Select(u => u.Id).Should().BeEquivalentTo([admin.Id, invited.Id]);
        rows.LastVisitAt.Should().Be(At);
        rows.Tier.Should().BeNull("no evaluation was stored yet");

        var rep = await home.PartnerRowsAsync(partner.Id, invited.Id, withUsers: false, CancellationToken.None);
        rep.Users.Should().BeEmpty();
        rep.LastVisitAt.Should().BeNull("each person has their own visit");
        rep.Partner.Should().NotBeNull();
    }

    [Fact]
    public async Task The_deal_partition_is_one_query_of_the_asked_statuses_of_the_submitter_with_the_counters_when_asked()
    {
        var s = await TestStores.CreateAsync();
        var partnerId = Ids.New("ptn");
        var mine = Deal(partnerId, DealStatus.Approved, "usr_rep", 100m, At.AddDays(10));
        var theirs = Deal(partnerId, DealStatus.Returned, "usr_other", 200m);
        var draft = Deal(partnerId, DealStatus.Draft, "usr_rep", 300m);
        var returned = Deal(partnerId, DealStatus.Returned, "usr_rep", 400m);
        foreach (var d in new[] { mine, theirs, draft, returned }) await s.Deals.CreateAsync(d, null, new ChangeSet([], []), CancellationToken.None);
        var projection = new DealProjection(s.Tables, NullLogger<DealProjection>.Instance);
        await projection.ApplyAsync(DealEvents.Create(DealEvents.Approved, mine, mine.UpdatedAt), CancellationToken.None);
        var home = new TablePortalHomeStore(s.Tables);

        var scope = StorageCalls.BeginScope();
        var rep = await home.PartnerDealsAsync(partnerId, "usr_rep", [DealStatus.Approved, DealStatus.Returned], withStats: false, 1000, CancellationToken.None);
        scope.Value.Should().Be(1);
        rep.Deals.Select(d => d.Id).Should().BeEquivalentTo([mine.Id, returned.Id], "the rep's own, in the asked statuses; no draft, no colleague's");
        rep.Stats.Should().BeNull();

        var company = await home.PartnerDealsAsync(partnerId, null, [DealStatus.Approved, DealStatus.Returned], withStats: true, 1000, CancellationToken.None);
        company.Deals.Select(d => d.Id).Should().BeEquivalentTo([mine.Id, theirs.Id, returned.Id]);
        company.Stats!.Approved.Should().Be(1);
        company.Truncated.Should().BeFalse();

        var limited = await home.PartnerDealsAsync(partnerId, null, [DealStatus.Approved, DealStatus.Returned], withStats: false, 2, CancellationToken.None);
        limited.Deals.Should().HaveCount(2);
        limited.Truncated.Should().BeTrue();
    }
}
