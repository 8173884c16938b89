using Azure.Data.Tables;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Partners;
using Prm.Storage.Partners;

namespace Prm.Storage.Tests;

/// <summary>
/// Refreshes of one partner's list index rows that land out of order (a slow inline refresh, an outbox repair that read the partner
/// before a later commit, a resent write) must leave the latest committed copy, in exactly one row per list.
/// </summary>
public sealed class PartnerIndexOrderTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>Commits a change of the stored partner and returns the copy as committed.</summary>
    private static async Task<Partner> ChangeAsync(TestStores s, string partnerId, Func<Partner, Partner> change, int hour)
    {
        var found = (await s.Store.GetAsync(partnerId, None))!;
        var changed = change(found.Value) with { UpdatedAt = Make.T0.AddHours(hour) };
        await s.Store.UpdateAsync(changed, found.ETag, Make.Audited("partner.updated", partnerId, Make.T0.AddHours(hour),
            Diff.Between(found.Value.Snapshot(), changed.Snapshot()).ToArray()), None);
        var stored = (await s.Store.GetAsync(partnerId, None))!.Value;
        stored.Revision.Should().Be(found.Value.Revision + 1, "every commit stores the next revision");
        return stored;
    }

    /// <summary>The partner's live rows of a list partition (tombstones of retired names and owners are not rows of the list).</summary>
    private static async Task<List<TableEntity>> RowsOfAsync(TestStores s, string partition, string partnerId) =>
        (await TestStores.RowsAsync(s.Tables.PartnerIndex, partition)).Where(r => r.GetString("PartnerId") == partnerId && !PartnerIndex.IsGone(r)).ToList();

    private static async Task ShouldBeIndexedExactlyAsAsync(TestStores s, Partner latest, params string[] formerOwners)
    {
        var all = await RowsOfAsync(s, PartnerIndex.AllPartition, latest.Id);
        all.Should().ContainSingle("one row per partner in the full list");
        all[0].RowKey.Should().Be(PartnerIndex.RowKey(latest.Name, latest.Id));
        PartnerRows.ReadPartner(all[0]).Should().Be(latest, "the list keeps the latest committed copy");
        if (latest.ChannelManagerId is not null)
        {
            var owned = await RowsOfAsync(s, PartnerIndex.OwnerPartition(latest.ChannelManagerId), latest.Id);
            owned.Should().ContainSingle("one row in its channel manager's list");
            PartnerRows.ReadPartner(owned[0]).Should().Be(latest);
        }
        foreach (var former in formerOwners.Where(o => o != latest.ChannelManagerId))
        {
            (await RowsOfAsync(s, PartnerIndex.OwnerPartition(former), latest.Id)).Should().BeEmpty($"{former} no longer owns the partner");
        }
    }

    [Fact]
    public async Task A_refresh_of_an_earlier_commit_that_lands_last_leaves_the_later_copy()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner("Northwind", channelManagerId: "usr_cm1");
        await s.CreateAsync(partner);
        var gold = await ChangeAsync(s, partner.Id, p => p with { Tier = PartnerTier.Gold }, 1);
        var platinum = await ChangeAsync(s, partner.Id, p => p with { Tier = PartnerTier.Platinum }, 2);

        // The gold commit's refresh (or a repair that read the partner before the platinum commit) arrives after the platinum one.
        await s.Index.RefreshAsync(gold, null, "usr_cm1", None);

        await ShouldBeIndexedExactlyAsAsync(s, platinum);
        var listed = await s.Store.ListAsync(new PartnerQuery(null, null, null, null, Text.NameKey("northwind")), new PageRequest(10, null), None);
        listed.Items.Should().ContainSingle().Which.Tier.Should().Be(PartnerTier.Platinum);
    }

    [Fact]
    public async Task A_late_refresh_of_a_name_the_partner_no_longer_has_leaves_no_second_row()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner("Alpha Systems", channelManagerId: "usr_cm1");
        await s.CreateAsync(partner);
        var alpha = (await s.Store.GetAsync(partner.Id, None))!.Value;
        var omega = await ChangeAsync(s, partner.Id, p => p with { Name = "Omega Systems", ChannelManagerId = "usr_cm2" }, 1);

        // The creation's copy refreshed again after the rename's refresh removed its rows: its rows are missing, so it inserts them.
        await s.Index.RefreshAsync(alpha, null, null, None);

        await ShouldBeIndexedExactlyAsAsync(s, omega, "usr_cm1");
    }

    [Fact]
    public async Task A_late_refresh_of_a_rename_that_was_undone_keeps_the_row_of_the_name_now_held()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner("Alpha Systems", channelManagerId: "usr_cm1");
        await s.CreateAsync(partner);
        var omega = await ChangeAsync(s, partner.Id, p => p with { Name = "Omega Systems" }, 1);
        var alphaAgain = await ChangeAsync(s, partner.Id, p => p with { Name = "Alpha Systems", City = "Leeds" }, 2);

        // The first rename's refresh, late: it would write the Omega rows and delete the Alpha rows the partner holds again.
        await s.Index.RefreshAsync(omega, "Alpha Systems", "usr_cm1", None);

        await ShouldBeIndexedExactlyAsAsync(s, alphaAgain);
    }

    [Fact]
    public async Task Refreshes_of_every_committed_copy_racing_in_any_order_leave_the_last_one()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner("Copy 00", channelManagerId: "usr_cm0");
        await s.CreateAsync(partner);
        var copies = new List<(Partner Copy, string? PreviousName, string? PreviousOwner)>
        {
            ((await s.Store.GetAsync(partner.Id, None))!.Value, null, null),
        };
        // Renames, owner moves and tier changes, each committed after the one before.
        for (var i = 1; i <= 12; i++)
        {
            var before = copies[^1].Copy;
            var next = await ChangeAsync(s, partner.Id, p => p with
            {
                Name = i % 3 == 0 ? $"Copy {i:D2}" : p.Name,
                ChannelManagerId = i % 4 == 0 ? $"usr_cm{i % 3}" : p.ChannelManagerId,
                Tier = (PartnerTier)(i % 4),
            }, i);
            copies.Add((next, before.Name, before.ChannelManagerId));
        }
        var latest = copies[^1].Copy;

        // Every copy's refresh again, all at once, in a shuffled order (seeded: a failure names its seed).
        for (var seed = 1; seed <= 5; seed++)
        {
            var random = new Random(seed);
            var order = copies.OrderBy(_ => random.Next()).ToList();
            await Task.WhenAll(order.Select(c => Task.Run(() => s.Index.RefreshAsync(c.Copy, c.PreviousName, c.PreviousOwner, None))));
            await ShouldBeIndexedExactlyAsAsync(s, latest, "usr_cm0", "usr_cm1", "usr_cm2");
        }
    }

    [Fact]
    public async Task A_creations_own_rows_landing_after_a_rename_of_the_new_partner_leave_no_second_row()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner("Alpha Systems", channelManagerId: "usr_cm1");
        await s.CreateAsync(partner);
        var created = (await s.Store.GetAsync(partner.Id, None))!.Value;
        // The creation's inserts have not landed yet (a long queue of a bulk import's "all" partition): its rows are not there when the
        // partner, already committed and readable, is renamed and moved; the rename's refresh finds nothing to delete.
        foreach (var partition in new[] { PartnerIndex.AllPartition, PartnerIndex.OwnerPartition("usr_cm1") })
        {
            await s.Tables.PartnerIndex.DeleteEntityAsync(partition, PartnerIndex.RowKey("Alpha Systems", partner.Id), Azure.ETag.All, None);
        }
        var omega = await ChangeAsync(s, partner.Id, p => p with { Name = "Omega Systems", ChannelManagerId = "usr_cm2" }, 1);

        await s.Index.RefreshAsync(created, null, null, None, created: true); // the creation's own inserts land now

        await ShouldBeIndexedExactlyAsAsync(s, omega, "usr_cm1");
    }

    [Fact]
    public async Task A_rename_whose_index_writes_lose_their_answers_still_keeps_a_late_creation_insert_out()
    {
        var lose = new Prm.Testing.LostAnswerPolicy();
        var s = await TestStores.CreateAsync(lose);
        var partner = Make.Partner("Alpha Systems");
        await s.CreateAsync(partner);
        var created = (await s.Store.GetAsync(partner.Id, None))!.Value;
        await s.Tables.PartnerIndex.DeleteEntityAsync(PartnerIndex.AllPartition, PartnerIndex.RowKey("Alpha Systems", partner.Id), Azure.ETag.All, None);
        // The rename's inserts (its new row, the old name's tombstone) go through and their answers are lost: the resends meet them.
        Func<Azure.Core.HttpMessage, bool> insert = m => m.Request.Method == Azure.Core.RequestMethod.Post && m.Request.Uri.Path.EndsWith("/" + s.Tables.PartnerIndex.Name, StringComparison.Ordinal);
        lose.LoseNext(insert);
        lose.LoseNext(insert);
        var omega = await ChangeAsync(s, partner.Id, p => p with { Name = "Omega Systems" }, 1);
        lose.Lost.Should().Be(2);

        await s.Index.RefreshAsync(created, null, null, None, created: true); // the creation's own insert lands now

        await ShouldBeIndexedExactlyAsAsync(s, omega);
        var tombstone = (await s.Tables.PartnerIndex.GetEntityAsync<TableEntity>(PartnerIndex.AllPartition, PartnerIndex.RowKey("Alpha Systems", partner.Id))).Value;
        PartnerIndex.IsGone(tombstone).Should().BeTrue("the old name is retired, not deleted");
        tombstone.GetInt64("Revision").Should().Be(omega.Revision);
    }
}
