using Prm.Core.Common;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Core.Plans;
using Prm.Storage.Plans;

namespace Prm.Storage.Tests;

/// <summary>The plan table on Azurite: one plan per partner and year, versions beside the plan, If-Match, and lists by partner and year.</summary>
public sealed class PlanStoreTests
{
    private static BusinessPlan Plan(string partnerId, int year)
    {
        var (objectives, initiatives) = PlanRules.Build([new ObjectiveInput(null, "wonDeals", null, [1m, 2m, 3m, 4m], 100, null)], [], "EUR", [], []);
        var now = DateTimeOffset.UtcNow;
        return new BusinessPlan
        {
            Id = PlanIds.New(partnerId),
            PartnerId = partnerId,
            PartnerName = "Northwind",
            FiscalYear = year,
            Status = "Draft",
            Version = 1,
            Title = "Plan " + year,
            Objectives = objectives,
            Initiatives = initiatives,
            CreatedBy = "Carla",
            CreatedAt = now,
            UpdatedAt = now,
        };
    }

    private static PlanVersion First(BusinessPlan p) => new(p.Id, 1, p.Title, p.Objectives, p.Initiatives, [], null, "Carla", p.CreatedAt);

    private static ChangeSet Changes(BusinessPlan p) => new([], [OutboxMessage.ForEvent(PlanEvents.Of(PlanEvents.Created, p, p.CreatedAt))]);

    [Fact]
    public async Task A_partner_has_one_plan_per_fiscal_year_and_a_stale_etag_changes_nothing()
    {
        var s = await TestStores.CreateAsync();
        var store = new TablePlanStore(s.Tables, s.Writer);
        var partnerId = Ids.New("ptn");
        var plan = Plan(partnerId, 2027);
        var etag = await store.CreateAsync(plan, First(plan), Changes(plan), CancellationToken.None);
        var second = Plan(partnerId, 2027);
        await FluentActions.Awaiting(() => store.CreateAsync(second, First(second), Changes(second), CancellationToken.None)).Should().ThrowAsync<ConflictException>();
        var other = Plan(partnerId, 2028);
        await store.CreateAsync(other, First(other), Changes(other), CancellationToken.None);

        var proposed = plan.Propose(DateTimeOffset.UtcNow).Updated;
        var newEtag = await store.SaveAsync(proposed, etag, null, new ChangeSet([], []), CancellationToken.None);
        await FluentActions.Awaiting(() => store.SaveAsync(proposed with { Title = "Lost update" }, etag, null, new ChangeSet([], []), CancellationToken.None))
            .Should().ThrowAsync<PreconditionFailedException>();
        var read = await store.GetAsync(plan.Id, CancellationToken.None);
        read!.ETag.Should().Be(newEtag);
        read.Value.Should().BeEquivalentTo(new { Status = "Proposed", Title = "Plan 2027" });

        (await store.ListAsync(partnerId, null, new PageRequest(50, null), CancellationToken.None)).Items.Select(p => p.FiscalYear).Should().BeEquivalentTo([2027, 2028]);
        (await store.ListAsync(partnerId, 2028, new PageRequest(50, null), CancellationToken.None)).Items.Should().ContainSingle().Which.Id.Should().Be(other.Id);
        (await store.GetAsync(PlanIds.New(Ids.New("ptn")), CancellationToken.None)).Should().BeNull();
        (await store.GetAsync("not-a-plan", CancellationToken.None)).Should().BeNull();
    }

    [Fact]
    public async Task A_new_version_is_stored_beside_the_plan_in_the_same_transaction()
    {
        var s = await TestStores.CreateAsync();
        var store = new TablePlanStore(s.Tables, s.Writer);
        var caller = new Prm.Core.Identity.Caller("usr_cm", "cm@vendor.example", "Carla", [Prm.Core.Identity.AppRoles.ChannelManager], null, null);
        var admin = new Prm.Core.Identity.Caller("usr_pa", "a@n.example", "Anna", [], "ptn_x", Prm.Core.Identity.PartnerRole.PartnerAdmin);
        var plan = Plan(Ids.New("ptn"), 2027);
        var etag = await store.CreateAsync(plan, First(plan), Changes(plan), CancellationToken.None);
        var accepted = plan.Propose(DateTimeOffset.UtcNow).Updated.Accept(admin, true, DateTimeOffset.UtcNow).Updated;
        etag = await store.SaveAsync(accepted, etag, null, new ChangeSet([], []), CancellationToken.None);
        var change = accepted.NewVersion(accepted.Title, [accepted.Objectives[0] with { Weight = 80 }], accepted.Initiatives, "weights", caller, DateTimeOffset.UtcNow);
        await store.SaveAsync(change.Updated, etag, change.NewVersion, new ChangeSet([], []), CancellationToken.None);
        // The same version made again from the old ETag: refused, and no second version row.
        await FluentActions.Awaiting(() => store.SaveAsync(change.Updated, etag, change.NewVersion, new ChangeSet([], []), CancellationToken.None)).Should().ThrowAsync<PreconditionFailedException>();
        var versions = await store.VersionsAsync(plan.Id, CancellationToken.None);
        versions.Select(v => v.Version).Should().Equal(1, 2);
        versions[1].Changes.Should().ContainSingle().Which.Field.Should().EndWith(".weight");
    }
}
