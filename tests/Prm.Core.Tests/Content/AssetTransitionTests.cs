using Prm.Core.Common;
using Prm.Core.Content;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Core.Tests.Content;

public class AssetTransitionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private static Asset Draft(DateTimeOffset? publishAt = null, DateTimeOffset? expireAt = null) => new()
    {
        Id = AssetIds.New(Now),
        Title = "Datasheet",
        Type = AssetType.Datasheet,
        Locale = "en",
        Visibility = new VisibilityRule { Everyone = true },
        Status = AssetStatus.Draft,
        OwnerId = "usr_1",
        OwnerName = "Ada",
        OwnerEmail = "ada@vendor.example",
        CreatedAt = Now,
        UpdatedAt = Now,
        PublishAt = publishAt,
        ExpireAt = expireAt,
    };

    private static Asset WithReadyVersion(Asset a, string? note = null)
    {
        var n = a.NextVersionNumber;
        var added = a.AddVersion(new AssetVersion(n, AssetVersionStatus.Pending, $"{a.Id}/v{n}", "f.pdf", note, "usr_1", "Ada", Now), 50).Asset;
        return added.CompleteVersion(n, 1234, new string('a', 64), "application/pdf", "pdf", Now).Asset;
    }

    [Fact]
    public void Publishing_needs_a_checked_version()
    {
        var act = () => Draft().Publish(Now);
        act.Should().Throw<ConflictException>().Which.Field.Should().Be("versions");
    }

    [Fact]
    public void A_draft_publishes_now_with_its_newest_version_and_the_published_event()
    {
        var change = WithReadyVersion(Draft()).Publish(Now);
        change.Asset.Status.Should().Be(AssetStatus.Published);
        change.Asset.CurrentVersion.Should().Be(1);
        change.Events.Should().Equal(new AssetRaised(ContentEvents.Published, 1));
    }

    [Fact]
    public void A_future_publish_at_schedules_and_the_sweep_publishes_it_when_due_not_before()
    {
        var scheduled = WithReadyVersion(Draft(publishAt: Now.AddHours(3))).Publish(Now).Asset;
        scheduled.Status.Should().Be(AssetStatus.Draft);
        scheduled.PublishScheduled.Should().BeTrue();
        AssetSchedule.Of(scheduled, new ContentSettings()).Should().Equal(new DueEntry(Now.AddHours(3), scheduled.Id, DueKind.Publish));
        scheduled.PublishDue(Now.AddHours(3).AddSeconds(-1)).Should().BeNull();
        scheduled.PublishDue(Now.AddHours(3))!.Asset.Status.Should().Be(AssetStatus.Published);
    }

    [Fact]
    public void A_newer_version_of_a_published_asset_supersedes_the_current_one()
    {
        var published = WithReadyVersion(Draft()).Publish(Now).Asset;
        var change = WithReadyVersion(published, "New pricing").Publish(Now.AddDays(1));
        change.Asset.CurrentVersion.Should().Be(2);
        change.Events.Should().Equal(new AssetRaised(ContentEvents.Superseded, 2, 1));
        change.Asset.Versions.Should().HaveCount(2, "the earlier version stays, unchanged");
        var again = () => change.Asset.Publish(Now.AddDays(2));
        again.Should().Throw<ConflictException>();
    }

    [Fact]
    public void A_completed_version_never_changes()
    {
        var asset = WithReadyVersion(Draft());
        var act = () => asset.CompleteVersion(1, 99, new string('b', 64), "image/png", "png", Now);
        act.Should().Throw<ConflictException>().Which.Field.Should().Be("version");
    }

    [Fact]
    public void Expiry_is_due_at_expire_at_and_the_notice_fourteen_days_before()
    {
        var published = WithReadyVersion(Draft(expireAt: Now.AddDays(30))).Publish(Now).Asset;
        var settings = new ContentSettings();
        AssetSchedule.Of(published, settings).Should().BeEquivalentTo([
            new DueEntry(Now.AddDays(30), published.Id, DueKind.Expire), new DueEntry(Now.AddDays(16), published.Id, DueKind.Notice)]);
        published.ExpiryNoticeDue(Now.AddDays(16).AddSeconds(-1), settings.ExpiryNoticeBefore).Should().BeNull();
        var noticed = published.ExpiryNoticeDue(Now.AddDays(16), settings.ExpiryNoticeBefore)!;
        noticed.ExpiryNotice.Should().BeTrue();
        noticed.Asset.ExpiryNoticeDue(Now.AddDays(17), settings.ExpiryNoticeBefore).Should().BeNull("the notice goes once");
        published.ExpireDue(Now.AddDays(30).AddSeconds(-1)).Should().BeNull();
        var expired = published.ExpireDue(Now.AddDays(30))!;
        expired.Asset.Status.Should().Be(AssetStatus.Expired);
        expired.Events.Should().Equal(new AssetRaised(ContentEvents.Expired, 1));
        AssetSchedule.Of(expired.Asset, settings).Should().BeEmpty();
    }

    [Fact]
    public void A_published_asset_past_its_expiry_is_hidden_even_before_the_sweep()
    {
        var published = WithReadyVersion(Draft(expireAt: Now.AddDays(1))).Publish(Now).Asset;
        published.IsLiveAt(Now.AddDays(1).AddSeconds(-1)).Should().BeTrue();
        published.IsLiveAt(Now.AddDays(1)).Should().BeFalse();
    }

    [Fact]
    public void Archiving_is_final_and_keeps_the_reason()
    {
        var archived = WithReadyVersion(Draft()).Publish(Now).Asset.Archive("Replaced by the 2027 deck", Now).Asset;
        archived.Status.Should().Be(AssetStatus.Archived);
        archived.ArchiveReason.Should().Be("Replaced by the 2027 deck");
        ((Action)(() => archived.Archive("again", Now))).Should().Throw<ConflictException>();
        ((Action)(() => archived.Publish(Now))).Should().Throw<ConflictException>();
    }

    [Fact]
    public void Partners_read_only_live_assets_their_company_sees_vendor_staff_read_all()
    {
        var draft = WithReadyVersion(Draft());
        var published = draft.Publish(Now).Asset with { Visibility = new VisibilityRule { Tiers = ["gold"] } };
        var gold = new PartnerFacts("ptn_1", PartnerTier.Gold, "emea", PartnerType.Reseller);
        var rep = new Caller("usr_2", "sam@northwind.example", "Sam", [], "ptn_1", PartnerRole.PartnerUser);
        var cm = new Caller("usr_3", "cm@vendor.example", "Cy", [AppRoles.ChannelManager], null, null);
        ContentAccess.MayRead(rep, published, gold, Now).Should().BeTrue();
        ContentAccess.MayRead(rep, published, gold with { Tier = PartnerTier.Silver }, Now).Should().BeFalse();
        ContentAccess.MayRead(rep, draft, gold, Now).Should().BeFalse("drafts are vendor-only");
        ContentAccess.MayRead(rep, published, gold with { PartnerId = "ptn_other" }, Now).Should().BeFalse("the facts must be the caller's own company");
        ContentAccess.MayRead(cm, draft, null, Now).Should().BeTrue();
        ContentAccess.MayManage(cm).Should().BeFalse();
    }
}
