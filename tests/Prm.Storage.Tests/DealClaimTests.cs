using Azure.Data.Tables;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Partners;
using Prm.Storage.Deals;

namespace Prm.Storage.Tests;

/// <summary>First come, first served claims: one holder, and a claim lost to a failure never blocks a customer for good.</summary>
public sealed class DealClaimTests
{
    private static Deal Deal(string partnerId, DealStatus status, DateTimeOffset at) => new()
    {
        Id = DealIds.New(partnerId, at), RegistrationNumber = DealIds.RegistrationNumber(at), PartnerId = partnerId, PartnerName = "P", SubmittedBy = "usr_x",
        SubmittedByName = "X", SubmittedByEmail = "x@p.example", Status = status, Customer = new DealCustomer("Acme", "acme.example", "DE", null, null, "acme", ["t-acme"]),
        Products = ["cloud-backup"], EstimatedValue = new Money(10m, "EUR"), ExpectedCloseDate = DateOnly.FromDateTime(at.UtcDateTime.AddDays(30)),
        CreatedAt = at, SubmittedAt = at, Conflict = new DealConflict("none", 0, [], [], false, true), UpdatedAt = at,
    };

    [Fact]
    public async Task The_first_holds_the_claim_a_retry_keeps_it_and_a_second_registration_is_refused()
    {
        var s = await TestStores.CreateAsync();
        var first = Deal(Ids.New("ptn"), DealStatus.UnderReview, s.Clock.GetUtcNow());
        var second = Deal(Ids.New("ptn"), DealStatus.UnderReview, s.Clock.GetUtcNow());
        await s.Deals.CreateAsync(first, null, new ChangeSet([], []), CancellationToken.None);

        (await s.Deals.TryClaimAsync("d:acme.example", first.Id, first.PartnerId, CancellationToken.None)).Should().BeTrue();
        (await s.Deals.TryClaimAsync("d:acme.example", first.Id, first.PartnerId, CancellationToken.None)).Should().BeTrue("a retry of the holder keeps it");
        (await s.Deals.TryClaimAsync("d:acme.example", second.Id, second.PartnerId, CancellationToken.None)).Should().BeFalse();
        s.Clock.Advance(TimeSpan.FromMinutes(5));
        (await s.Deals.TryClaimAsync("d:acme.example", second.Id, second.PartnerId, CancellationToken.None)).Should().BeFalse("the holder is still active");
    }

    [Fact]
    public async Task A_claim_whose_registration_was_never_written_is_taken_over_after_the_grace_only()
    {
        var s = await TestStores.CreateAsync();
        var lost = Deal(Ids.New("ptn"), DealStatus.UnderReview, s.Clock.GetUtcNow()); // claimed, then the commit failed
        var next = Deal(Ids.New("ptn"), DealStatus.UnderReview, s.Clock.GetUtcNow());
        (await s.Deals.TryClaimAsync("d:acme.example", lost.Id, lost.PartnerId, CancellationToken.None)).Should().BeTrue();

        (await s.Deals.TryClaimAsync("d:acme.example", next.Id, next.PartnerId, CancellationToken.None)).Should().BeFalse("its commit may still be running");
        s.Clock.Advance(TableDealStore.UncommittedClaimGrace + TimeSpan.FromSeconds(1));
        (await s.Deals.TryClaimAsync("d:acme.example", next.Id, next.PartnerId, CancellationToken.None)).Should().BeTrue();
        var row = (await s.Tables.Keys.GetEntityAsync<TableEntity>(TableDealStore.ClaimPartition("d:acme.example"), TableDealStore.ClaimPartition("d:acme.example"))).Value;
        row.GetString("DealId").Should().Be(next.Id);
    }

    [Fact]
    public async Task A_claim_of_an_ended_registration_is_taken_over_and_a_release_by_someone_else_changes_nothing()
    {
        var s = await TestStores.CreateAsync();
        var ended = Deal(Ids.New("ptn"), DealStatus.Rejected, s.Clock.GetUtcNow());
        var next = Deal(Ids.New("ptn"), DealStatus.UnderReview, s.Clock.GetUtcNow());
        await s.Deals.CreateAsync(ended, null, new ChangeSet([], []), CancellationToken.None);
        await s.Deals.CreateAsync(next, null, new ChangeSet([], []), CancellationToken.None);
        (await s.Deals.TryClaimAsync("d:acme.example", ended.Id, ended.PartnerId, CancellationToken.None)).Should().BeTrue();
        s.Clock.Advance(TimeSpan.FromMinutes(2));

        (await s.Deals.TryClaimAsync("d:acme.example", next.Id, next.PartnerId, CancellationToken.None)).Should().BeTrue("its holder was rejected without releasing it");
        await s.Deals.ReleaseClaimAsync("d:acme.example", ended.Id, CancellationToken.None);
        (await s.Deals.TryClaimAsync("d:acme.example", ended.Id, ended.PartnerId, CancellationToken.None)).Should().BeFalse("the new holder is active; the old one's release did nothing");
        await s.Deals.ReleaseClaimAsync("d:acme.example", next.Id, CancellationToken.None);
        (await s.Deals.TryClaimAsync("d:acme.example", ended.Id, ended.PartnerId, CancellationToken.None)).Should().BeTrue("released by its holder, the claim is free");
    }
}
