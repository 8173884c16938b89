using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;
using Prm.Storage.Partners;

namespace Prm.Storage.Tests;

public sealed class TablePartnerStoreTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Create_then_get_returns_the_same_fields_and_an_etag()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner("Acme Corp", channelManagerId: "usr_cm1", tier: PartnerTier.Gold, users: 1, admins: 1);

        var etag = await s.CreateAsync(partner, Make.User(partner.Id, role: PartnerRole.PartnerAdmin));
        var found = await s.Store.GetAsync(partner.Id, None);

        etag.Should().NotBeNullOrEmpty();
        found.Should().NotBeNull();
        found!.Value.Should().Be(partner with { Revision = 1 }, "a commit stores the revision after the one it was given");
        found.ETag.Should().Be(etag);
        (await s.Store.FindByDomainAsync(partner.Domain, None)).Should().Be(partner.Id);
    }

    [Fact]
    public async Task Get_of_an_unknown_partner_is_null()
    {
        var s = await TestStores.CreateAsync();

        (await s.Store.GetAsync(Ids.New("ptn"), None)).Should().BeNull();
        (await s.Store.FindByDomainAsync("nobody.example.com", None)).Should().BeNull();
    }

    [Fact]
    public async Task A_second_partner_with_the_same_domain_conflicts_on_domain_and_writes_nothing()
    {
        var s = await TestStores.CreateAsync();
        var first = Make.Partner("First");
        await s.CreateAsync(first);
        var second = Make.Partner("Second", domain: first.Domain);
        var secondUser = Make.User(second.Id);

        var act = () => s.CreateAsync(second, secondUser);

        (await act.Should().ThrowAsync<ConflictException>()).Which.Field.Should().Be("domain");
        (await s.Store.GetAsync(second.Id, None)).Should().BeNull();
        (await s.Store.GetUserAsync(second.Id, secondUser.Id, None)).Should().BeNull();
        (await TestStores.RowsAsync(s.Tables.Partners, second.Id)).Should().BeEmpty();
        (await s.Directory.FindEmailAsync(secondUser.Email, None)).Should().BeNull("the user's email was never claimed");
        (await s.Store.FindByDomainAsync(first.Domain, None)).Should().Be(first.Id, "the failed create must not release the first partner's domain");
        var all = await s.Store.ListAsync(new PartnerQuery(null, null, null, null, null), new PageRequest(50, null), None);
        all.Items.Select(p => p.Id).Should().Equal(first.Id);
    }

    [Fact]
    public async Task A_taken_user_email_on_create_conflicts_and_releases_the_domain()
    {
        var s = await TestStores.CreateAsync();
        var first = Make.Partner("First");
        var taken = Make.User(first.Id);
        await s.CreateAsync(first, taken);
        var second = Make.Partner("Second");

        var act = () => s.CreateAsync(second, Make.User(second.Id, email: taken.Email));

        (await act.Should().ThrowAsync<ConflictException>()).Which.Field.Should().NotBeNull().And.EndWith("email");
        (await s.Store.GetAsync(second.Id, None)).Should().BeNull();
        (await s.Store.FindByDomainAsync(second.Domain, None)).Should().BeNull("the domain claimed by the failed create is released");
        (await s.Directory.FindEmailAsync(taken.Email, None)).Should().Be(new EmailRegistration(taken.Email, taken.Id, first.Id), "the first user keeps the email");

        var retry = Make.Partner("Second again", domain: second.Domain);
        await s.CreateAsync(retry, Make.User(retry.Id));
        (await s.Store.FindByDomainAsync(second.Domain, None)).Should().Be(retry.Id);
    }

    [Fact]
    public async Task Two_users_with_the_same_email_in_one_create_conflict_and_release_everything()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner();
        var email = Make.Email();

        var act = () => s.CreateAsync(partner, Make.User(partner.Id, email: email), Make.User(partner.Id, email: email));

        await act.Should().ThrowAsync<ConflictException>();
        (await s.Store.FindByDomainAsync(partner.Domain, None)).Should().BeNull();
        (await s.Directory.FindEmailAsync(email, None)).Should().BeNull();
        (await s.Store.GetAsync(partner.Id, None)).Should().BeNull();
    }

    [Fact]
    public async Task A_reservation_holds_the_domain_and_admin_email_for_its_partner_which_is_then_created_with_them()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner("Reserved Ltd");
        var admin = Make.User(partner.Id, role: PartnerRole.PartnerAdmin);
        var reservation = new PartnerReservation(partner.Id, partner.Domain, admin.Id, admin.Email);

        await s.Store.ReserveAsync(reservation, None);
        await s.Store.ReserveAsync(reservation, None); // idempotent for the same partner

        (await s.Store.FindByDomainAsync(partner.Domain, None)).Should().Be(partner.Id);
        var other = Make.Partner("Other", domain: partner.Domain);
        (await ((Func<Task>)(() => s.CreateAsync(other))).Should().ThrowAsync<ConflictException>()).Which.Field.Should().Be("domain");
        var otherReservation = () => s.Store.ReserveAsync(new PartnerReservation(Ids.New("ptn"), Make.Domain(), Ids.New("usr"), admin.Email), None);
        (await otherReservation.Should().ThrowAsync<ConflictException>()).Which.Field.Should().Be("admin.email");

        await s.CreateAsync(partner, admin);
        (await s.Store.GetAsync(partner.Id, None)).Should().NotBeNull();
        (await s.Directory.FindEmailAsync(admin.Email, None)).Should().Be(new EmailRegistration(admin.Email, admin.Id, partner.Id));
        await s.Store.ReleaseAsync(reservation, None);
        (await s.Store.FindByDomainAsync(partner.Domain, None)).Should().Be(partner.Id, "a created partner's keys are its own, not a reservation");
        (await s.Directory.FindEmailAsync(admin.Email, None)).Should().NotBeNull();
    }

    [Fact]
    public async Task A_released_reservation_frees_its_keys_and_one_refused_for_its_email_keeps_no_domain()
    {
        var s = await TestStores.CreateAsync();
        var reservation = new PartnerReservation(Ids.New("ptn"), Make.Domain(), Ids.New("usr"), Make.Email());
        await s.Store.ReserveAsync(reservation, None);
        await s.Store.ReleaseAsync(reservation, None);
        (await s.Store.FindByDomainAsync(reservation.Domain, None)).Should().BeNull();
        (await s.Directory.FindEmailAsync(reservation.AdminEmail, None)).Should().BeNull();

        var first = Make.Partner("First");
        var taken = Make.User(first.Id);
        await s.CreateAsync(first, taken);
        var refused = new PartnerReservation(Ids.New("ptn"), Make.Domain(), Ids.New("usr"), taken.Email);
        (await ((Func<Task>)(() => s.Store.ReserveAsync(refused, None))).Should().ThrowAsync<ConflictException>()).Which.Field.Should().Be("admin.email");
        (await s.Store.FindByDomainAsync(refused.Domain, None)).Should().BeNull("both keys or neither");
        await s.Store.ReleaseAsync(refused, None);
        (await s.Directory.FindEmailAsync(taken.Email, None)).Should().Be(new EmailRegistration(taken.Email, taken.Id, first.Id), "keys held by others are left alone");
    }

    [Fact]
    public async Task Key_rows_of_a_creation_that_never_committed_are_taken_over_once_abandoned_and_never_a_living_partners_or_a_reservations()
    {
        var s = await TestStores.CreateAsync();
        var failed = Make.Partner("Failed");
        var failedUser = Make.User(failed.Id);
        await s.CreateAsync(failed, failedUser);
        // What a creation whose transaction failed, and whose release of its keys failed too, leaves: its key rows without the partner.
        foreach (var row in await TestStores.RowsAsync(s.Tables.Partners, failed.Id)) await s.Tables.Partners.DeleteEntityAsync(row.PartitionKey, row.RowKey);
        var reservation = new PartnerReservation(Ids.New("ptn"), Make.Domain(), Ids.New("usr"), Make.Email());
        await s.Store.ReserveAsync(reservation, None);
        var next = Make.Partner("Next", domain: failed.Domain);
        var nextUser = Make.User(next.Id, email: failedUser.Email);

        var early = () => s.CreateAsync(next, nextUser);
        (await early.Should().ThrowAsync<ConflictException>("a creation may still be between its claims and its commit")).Which.Field.Should().BeOneOf("domain", "admin.email");
        (await s.Store.FindByDomainAsync(failed.Domain, None)).Should().Be(failed.Id, "the refused creation left the keys as they were");

        s.Clock.Advance(KeyRows.AbandonedClaimAfter + TimeSpan.FromHours(1));
        await s.CreateAsync(next, nextUser);

        (await s.Store.FindByDomainAsync(failed.Domain, None)).Should().Be(next.Id);
        (await s.Directory.FindEmailAsync(nextUser.Email, None)).Should().Be(new EmailRegistration(nextUser.Email, nextUser.Id, next.Id));
        var third = Make.Partner("Third", domain: failed.Domain);
        (await ((Func<Task>)(() => s.CreateAsync(third))).Should().ThrowAsync<ConflictException>("the keys of a partner that exists are never abandoned"))
            .Which.Field.Should().Be("domain");
        var onReservation = Make.Partner("On a reservation", domain: reservation.Domain);
        (await ((Func<Task>)(() => s.CreateAsync(onReservation))).Should().ThrowAsync<ConflictException>("a reservation waits for its application, however long"))
            .Which.Field.Should().Be("domain");
        (await s.Store.FindByDomainAsync(reservation.Domain, None)).Should().Be(reservation.PartnerId);
    }

    [Fact]
    public async Task Keys_left_by_a_creation_are_held_afresh_by_its_retry_and_for_good_by_a_reservation_of_the_same_partner()
    {
        var s = await TestStores.CreateAsync();
        var retried = Make.Partner("Retried");
        var retriedAdmin = Make.User(retried.Id);
        var reserved = Make.Partner("Reserved");
        var reservedAdmin = Make.User(reserved.Id);
        await s.CreateAsync(retried, retriedAdmin);
        await s.CreateAsync(reserved, reservedAdmin);
        foreach (var id in new[] { retried.Id, reserved.Id })
        {
            foreach (var row in await TestStores.RowsAsync(s.Tables.Partners, id)) await s.Tables.Partners.DeleteEntityAsync(row.PartitionKey, row.RowKey);
        }
        var left = (await s.Tables.Keys.GetEntityAsync<Azure.Data.Tables.TableEntity>(KeyRows.Domain(retried.Domain), "")).Value;
        s.Clock.Advance(KeyRows.AbandonedClaimAfter + TimeSpan.FromHours(1));

        // The same partner created again long after (an approval's retry from the outbox, an import's next attempt): its keys are its own,
        // and their age starts again, so no other creation takes them for abandoned while this one commits.
        await s.CreateAsync(retried, retriedAdmin);
        var kept = (await s.Tables.Keys.GetEntityAsync<Azure.Data.Tables.TableEntity>(KeyRows.Domain(retried.Domain), "")).Value;
        kept.GetString("PartnerId").Should().Be(retried.Id);
        kept.ETag.Should().NotBe(left.ETag, "the key was written again by this creation");
        // A reservation of the same partner (an application's approval given back and reserved again) holds the keys as a reservation.
        await s.Store.ReserveAsync(new PartnerReservation(reserved.Id, reserved.Domain, reservedAdmin.Id, reservedAdmin.Email), None);
        s.Clock.Advance(KeyRows.AbandonedClaimAfter + TimeSpan.FromHours(1));
        var other = Make.Partner("Other", domain: reserved.Domain);
        (await ((Func<Task>)(() => s.CreateAsync(other))).Should().ThrowAsync<ConflictException>("a reservation is never abandoned")).Which.Field.Should().Be("domain");
        (await s.Store.FindByDomainAsync(reserved.Domain, None)).Should().Be(reserved.Id);
    }

    [Fact]
    public async Task An_invited_users_email_key_left_without_its_user_is_taken_over_once_abandoned()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner(users: 1, admins: 1);
        await s.CreateAsync(partner, Make.User(partner.Id, role: PartnerRole.PartnerAdmin));
        var current = (await s.Store.GetAsync(partner.Id, None))!;
        var bob = Make.User(partner.Id, name: "Bob User");
        await s.Store.AddUserAsync(current.Value with { UserCount = 2 }, current.ETag, bob, Make.Audited("partner.user.invited", bob.Id, Make.T0.AddHours(1)), None);
        // The user row is gone but the email key stayed (an invitation whose commit and release both failed, or a removal whose key delete failed).
        await s.Tables.Partners.DeleteEntityAsync(partner.Id, PartnerRows.UserPrefix + bob.Id);
        var other = Make.Partner("Other");
        var otherBob = Make.User(other.Id, email: bob.Email);

        (await ((Func<Task>)(() => s.CreateAsync(other, otherBob))).Should().ThrowAsync<ConflictException>()).Which.Field.Should().Be("admin.email");
        (await s.Store.FindByDomainAsync(other.Domain, None)).Should().BeNull("the refused creation released its domain");

        s.Clock.Advance(KeyRows.AbandonedClaimAfter + TimeSpan.FromHours(1));
        await s.CreateAsync(other, otherBob);

        (await s.Directory.FindEmailAsync(bob.Email, None)).Should().Be(new EmailRegistration(bob.Email, otherBob.Id, other.Id));
        var admin = (await s.Store.ListUsersAsync(partner.Id, new PageRequest(50, null), None)).Items.Single();
        var again = Make.Partner("Again");
        (await ((Func<Task>)(() => s.CreateAsync(again, Make.User(again.Id, email: admin.Email)))).Should().ThrowAsync<ConflictException>("a living user's email is never abandoned"))
            .Which.Field.Should().Be("admin.email");
    }

    [Fact]
    public async Task Concurrent_creations_of_one_partner_chosen_in_advance_create_it_once_and_keep_its_keys()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner("Twice Ltd");
        var admin = Make.User(partner.Id, role: PartnerRole.PartnerAdmin);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            try
            {
                await s.CreateAsync(partner, admin);
                return true;
            }
            catch (ConflictException)
            {
                return false;
            }
        }));

        outcomes.Count(created => created).Should().Be(1);
        (await s.Store.GetAsync(partner.Id, None)).Should().NotBeNull();
        (await s.Store.FindByDomainAsync(partner.Domain, None)).Should().Be(partner.Id, "a losing creation leaves the winner's keys");
        (await s.Directory.FindEmailAsync(admin.Email, None)).Should().Be(new EmailRegistration(admin.Email, admin.Id, partner.Id));
    }

    [Fact]
    public async Task Update_with_the_current_etag_succeeds_and_returns_a_new_etag()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner("Acme");
        var etag = await s.CreateAsync(partner);
        var updated = (await s.Store.GetAsync(partner.Id, None))!.Value with { Tier = PartnerTier.Platinum, City = "Hamburg", UpdatedAt = Make.T0.AddDays(1) };

        var newEtag = await s.Store.UpdateAsync(updated, etag, Make.Audited("partner.updated", partner.Id, Make.T0.AddDays(1), new FieldChange("tier", "registered", "platinum")), None);

        newEtag.Should().NotBeNullOrEmpty().And.NotBe(etag);
        var found = await s.Store.GetAsync(partner.Id, None);
        found!.Value.Should().Be(updated with { Revision = 2 });
        found.ETag.Should().Be(newEtag);
        var listed = await s.Store.ListAsync(new PartnerQuery(null, null, null, null, null), new PageRequest(50, null), None);
        listed.Items.Should().ContainSingle().Which.Should().Be(updated with { Revision = 2 }, "the index row is refreshed with the update");
    }

    [Fact]
    public async Task List_searches_by_name_prefix_case_insensitively()
    {
        var s = await TestStores.CreateAsync();
        foreach (var name in new[] { "ecoline", "ECOSIA GmbH", "EcoLab", "Zeta Eco", "Ecu Partners" }) await s.CreateAsync(Make.Partner(name));

        // The directory hands the store Text.NameKey of the search text, exactly as here.
        foreach (var search in new[] { "eco", "ECO", "Eco", "  eCo " })
        {
            var page = await s.Store.ListAsync(new PartnerQuery(null, null, null, null, Text.NameKey(search)), new PageRequest(50, null), None);
            page.Items.Select(p => p.Name).Should().Equal(["EcoLab", "ecoline", "ECOSIA GmbH"], $"search '{search}'");
        }
        var exact = await s.Store.ListAsync(new PartnerQuery(null, null, null, null, Text.NameKey("ECOSIA gmbh")), new PageRequest(50, null), None);
        exact.Items.Should().ContainSingle().Which.Name.Should().Be("ECOSIA GmbH");
        var none = await s.Store.ListAsync(new PartnerQuery(null, null, null, null, Text.NameKey("Ecox")), new PageRequest(50, null), None);
        none.Items.Should().BeEmpty();
    }

    [Fact]
    public async Task List_search_and_order_ignore_accents()
    {
        var s = await TestStores.CreateAsync();
        foreach (var name in new[] { "Écolo Systems", "ecoline", "Zeta", "alpha", "Älpine", "Bravo" }) await s.CreateAsync(Make.Partner(name));

        var eco = await s.Store.ListAsync(new PartnerQuery(null, null, null, null, Text.NameKey("eco")), new PageRequest(50, null), None);
        var ecoAccented = await s.Store.ListAsync(new PartnerQuery(null, null, null, null, Text.NameKey("ÉCO")), new PageRequest(50, null), None);
        var all = await s.Store.ListAsync(new PartnerQuery(null, null, null, null, null), new PageRequest(50, null), None);

        eco.Items.Select(p => p.Name).Should().BeEquivalentTo(["Écolo Systems", "ecoline"]);
        ecoAccented.Items.Select(p => p.Name).Should().BeEquivalentTo(["Écolo Systems", "ecoline"]);
        all.Items.Select(p => p.Name).Should().Equal("alpha", "Älpine", "Bravo", "ecoline", "Écolo Systems", "Zeta");
    }

    [Fact]
    public async Task List_returns_partners_in_case_insensitive_name_order()
    {
        var s = await TestStores.CreateAsync();
        foreach (var name in new[] { "charlie", "Alpha", "bravo", "ALPINE" }) await s.CreateAsync(Make.Partner(name));

        var page = await s.Store.ListAsync(new PartnerQuery(null, null, null, null, null), new PageRequest(50, null), None);

        page.Items.Select(p => p.Name).Should().Equal("Alpha", "ALPINE", "bravo", "charlie");
    }

    [Fact]
    public async Task List_filters_by_status_tier_and_region()
    {
        var s = await TestStores.CreateAsync();
        var goldEmea = Make.Partner("Gold Emea", tier: PartnerTier.Gold, region: "emea");
        var goldApac = Make.Partner("Gold Apac", tier: PartnerTier.Gold, region: "apac");
        var silverEmeaSuspended = Make.Partner("Silver Emea", tier: PartnerTier.Silver, region: "emea", status: PartnerStatus.Suspended);
        var registeredAmer = Make.Partner("Registered Amer", region: "amer", status: PartnerStatus.AgreementPending);
        foreach (var p in new[] { goldEmea, goldApac, silverEmeaSuspended, registeredAmer }) await s.CreateAsync(p);

        async Task<IEnumerable<string>> Names(PartnerQuery q) => (await s.Store.ListAsync(q, new PageRequest(50, null), None)).Items.Select(p => p.Name);

        (await Names(new PartnerQuery(null, null, PartnerTier.Gold, null, null))).Should().BeEquivalentTo(["Gold Emea", "Gold Apac"]);
        (await Names(new PartnerQuery(null, null, null, "emea", null))).Should().BeEquivalentTo(["Gold Emea", "Silver Emea"]);
        (await Names(new PartnerQuery(null, PartnerStatus.Suspended, null, null, null))).Should().BeEquivalentTo(["Silver Emea"]);
        (await Names(new PartnerQuery(null, PartnerStatus.Active, PartnerTier.Gold, "apac", null))).Should().BeEquivalentTo(["Gold Apac"]);
        (await Names(new PartnerQuery(null, PartnerStatus.Active, PartnerTier.Gold, "amer", null))).Should().BeEmpty();
        (await Names(new PartnerQuery(null, null, null, null, null))).Should().HaveCount(4);
    }

    [Fact]
    public async Task List_by_channel_manager_shows_only_that_managers_partners()
    {
        var s = await TestStores.CreateAsync();
        var a1 = Make.Partner("A1", channelManagerId: "usr_cm1");
        var a2 = Make.Partner("A2", channelManagerId: "usr_cm1", tier: PartnerTier.Gold);
        var b1 = Make.Partner("B1", channelManagerId: "usr_cm2");
        var unassigned = Make.Partner("U1");
        foreach (var p in new[] { a1, a2, b1, unassigned }) await s.CreateAsync(p);

        var cm1 = await s.Store.ListAsync(new PartnerQuery("usr_cm1", null, null, null, null), new PageRequest(50, null), None);
        var cm1Gold = await s.Store.ListAsync(new PartnerQuery("usr_cm1", null, PartnerTier.Gold, null, null), new PageRequest(50, null), None);
        var cm2 = await s.Store.ListAsync(new PartnerQuery("usr_cm2", null, null, null, null), new PageRequest(50, null), None);
        var cm3 = await s.Store.ListAsync(new PartnerQuery("usr_cm3", null, null, null, null), new PageRequest(50, null), None);

        cm1.Items.Select(p => p.Id).Should().BeEquivalentTo([a1.Id, a2.Id]);
        cm1Gold.Items.Select(p => p.Id).Should().Equal(a2.Id);
        cm2.Items.Select(p => p.Id).Should().Equal(b1.Id);
        cm3.Items.Should().BeEmpty();
    }

    [Fact]
    public async Task Update_that_renames_and_changes_owner_leaves_no_old_index_rows()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner("Alpha Systems", channelManagerId: "usr_cm1");
        var etag = await s.CreateAsync(partner);
        var renamed = partner with { Revision = 1, Name = "Omega Systems", ChannelManagerId = "usr_cm2" };

        await s.Store.UpdateAsync(renamed, etag, Make.Audited("partner.updated", partner.Id, Make.T0.AddHours(1),
            new FieldChange("channelManagerId", "usr_cm1", "usr_cm2"), new FieldChange("name", "Alpha Systems", "Omega Systems")), None);

        await ShouldListExactly(s, new PartnerQuery(null, null, null, null, null), renamed with { Revision = 2 });
        await ShouldListExactly(s, new PartnerQuery("usr_cm2", null, null, null, null), renamed with { Revision = 2 });
        await ShouldListExactly(s, new PartnerQuery("usr_cm1", null, null, null, null));
        await ShouldListExactly(s, new PartnerQuery(null, null, null, null, Text.NameKey("alpha")));
        await ShouldListExactly(s, new PartnerQuery(null, null, null, null, Text.NameKey("omega")), renamed with { Revision = 2 });
    }

    [Fact]
    public async Task Update_that_changes_only_the_owner_moves_the_index_row()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner("Alpha Systems", channelManagerId: "usr_cm1");
        var etag = await s.CreateAsync(partner);
        var moved = partner with { Revision = 1, ChannelManagerId = "usr_cm2" };

        await s.Store.UpdateAsync(moved, etag, Make.Audited("partner.updated", partner.Id, Make.T0.AddHours(1),
            new FieldChange("channelManagerId", "usr_cm1", "usr_cm2")), None);

        await ShouldListExactly(s, new PartnerQuery(null, null, null, null, null), moved with { Revision = 2 });
        await ShouldListExactly(s, new PartnerQuery("usr_cm1", null, null, null, null));
        await ShouldListExactly(s, new PartnerQuery("usr_cm2", null, null, null, null), moved with { Revision = 2 });
    }

    [Fact]
    public async Task Update_that_unassigns_the_owner_removes_the_managers_index_row()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner("Alpha Systems", channelManagerId: "usr_cm1");
        var etag = await s.CreateAsync(partner);
        var unassigned = partner with { Revision = 1, ChannelManagerId = null };

        await s.Store.UpdateAsync(unassigned, etag, Make.Audited("partner.updated", partner.Id, Make.T0.AddHours(1),
            new FieldChange("channelManagerId", "usr_cm1", null)), None);

        await ShouldListExactly(s, new PartnerQuery(null, null, null, null, null), unassigned with { Revision = 2 });
        await ShouldListExactly(s, new PartnerQuery("usr_cm1", null, null, null, null));
    }

    [Fact]
    public async Task Update_that_renames_a_partner_with_an_unchanged_owner_leaves_no_duplicate_in_the_managers_list()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner("Alpha Systems", channelManagerId: "usr_cm1");
        var etag = await s.CreateAsync(partner);
        var renamed = partner with { Revision = 1, Name = "Omega Systems" };

        // The change set exactly as PartnerDirectory.PatchAsync builds it: only the fields that changed.
        await s.Store.UpdateAsync(renamed, etag, Make.Audited("partner.updated", partner.Id, Make.T0.AddHours(1),
            Diff.Between(partner.Snapshot(), renamed.Snapshot()).ToArray()), None);

        await ShouldListExactly(s, new PartnerQuery(null, null, null, null, null), renamed with { Revision = 2 });
        await ShouldListExactly(s, new PartnerQuery("usr_cm1", null, null, null, null), renamed with { Revision = 2 });
    }

    [Fact]
    public async Task Paging_with_a_limit_follows_cursors_through_every_partner_once()
    {
        var s = await TestStores.CreateAsync();
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            var p = Make.Partner($"Partner {i}", channelManagerId: "usr_cm1");
            await s.CreateAsync(p);
            ids.Add(p.Id);
        }

        foreach (var query in new[] { new PartnerQuery(null, null, null, null, null), new PartnerQuery("usr_cm1", null, null, null, null) })
        {
            var seen = new List<string>();
            string? cursor = null;
            var pages = 0;
            do
            {
                var page = await s.Store.ListAsync(query, new PageRequest(3, cursor), None);
                page.Items.Should().HaveCountLessThanOrEqualTo(3);
                seen.AddRange(page.Items.Select(p => p.Id));
                cursor = page.NextCursor;
                cursor?.Should().MatchRegex("^[A-Za-z0-9_-]+$", "cursors are URL-safe");
                (++pages).Should().BeLessThan(10);
            } while (cursor is not null);

            seen.Should().OnlyHaveUniqueItems().And.BeEquivalentTo(ids);
            pages.Should().BeGreaterThanOrEqualTo(3);
        }
    }

    [Theory]
    [InlineData("not a cursor!")]
    [InlineData("%%%")]
    [InlineData("abcde")]
    public async Task A_garbage_cursor_is_a_validation_failure_on_cursor(string cursor)
    {
        var s = await TestStores.CreateAsync();
        await s.CreateAsync(Make.Partner());

        var act = () => s.Store.ListAsync(new PartnerQuery(null, null, null, null, null), new PageRequest(3, cursor), None);

        (await act.Should().ThrowAsync<ValidationFailedException>()).Which.Errors.Should().ContainKey("cursor");
    }

    [Fact]
    public async Task Added_users_are_listed_and_read_back()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner(users: 1, admins: 1);
        var admin = Make.User(partner.Id, role: PartnerRole.PartnerAdmin, name: "Ann Admin");
        await s.CreateAsync(partner, admin);
        var current = (await s.Store.GetAsync(partner.Id, None))!;
        var bob = Make.User(partner.Id, name: "Bob User");
        var withBob = current.Value with { UserCount = 2 };

        await s.Store.AddUserAsync(withBob, current.ETag, bob, Make.Audited("partner.user.invited", bob.Id, Make.T0.AddHours(1)), None);

        (await s.Store.GetUserAsync(partner.Id, bob.Id, None))!.Value.Should().Be(bob);
        (await s.Store.GetUserAsync(partner.Id, admin.Id, None))!.Value.Should().Be(admin);
        (await s.Store.GetUserAsync(partner.Id, Ids.New("usr"), None)).Should().BeNull();
        var users = await s.Store.ListUsersAsync(partner.Id, new PageRequest(50, null), None);
        users.Items.Should().BeEquivalentTo([admin, bob]);
        users.NextCursor.Should().BeNull();
        (await s.Store.GetAsync(partner.Id, None))!.Value.UserCount.Should().Be(2);
        (await s.Directory.FindEmailAsync(bob.Email, None)).Should().Be(new EmailRegistration(bob.Email, bob.Id, partner.Id));
        var listed = await s.Store.ListAsync(new PartnerQuery(null, null, null, null, null), new PageRequest(50, null), None);
        listed.Items.Should().ContainSingle().Which.UserCount.Should().Be(2, "the index row carries the new counters");
    }

    [Fact]
    public async Task Users_of_another_partner_are_not_listed()
    {
        var s = await TestStores.CreateAsync();
        var a = Make.Partner("A");
        var b = Make.Partner("B");
        var ua = Make.User(a.Id);
        await s.CreateAsync(a, ua);
        await s.CreateAsync(b, Make.User(b.Id));

        var users = await s.Store.ListUsersAsync(a.Id, new PageRequest(50, null), None);

        users.Items.Select(u => u.Id).Should().Equal(ua.Id);
        (await s.Store.GetUserAsync(b.Id, ua.Id, None)).Should().BeNull();
    }

    [Fact]
    public async Task Adding_a_user_whose_email_is_taken_conflicts_and_keeps_the_owner()
    {
        var s = await TestStores.CreateAsync();
        var a = Make.Partner("A");
        var owner = Make.User(a.Id);
        await s.CreateAsync(a, owner);
        var b = Make.Partner("B");
        var bEtag = await s.CreateAsync(b);
        var intruder = Make.User(b.Id, email: owner.Email);

        var act = () => s.Store.AddUserAsync(b with { UserCount = 1 }, bEtag, intruder, Make.Audited("partner.user.invited", intruder.Id, Make.T0), None);

        (await act.Should().ThrowAsync<ConflictException>()).Which.Field.Should().Be("email");
        (await s.Directory.FindEmailAsync(owner.Email, None)).Should().Be(new EmailRegistration(owner.Email, owner.Id, a.Id));
        (await s.Store.GetUserAsync(b.Id, intruder.Id, None)).Should().BeNull();
        (await s.Store.GetAsync(b.Id, None))!.ETag.Should().Be(bEtag);
    }

    [Fact]
    public async Task Remove_user_deletes_the_user_and_its_email_key()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner(users: 2, admins: 1);
        var admin = Make.User(partner.Id, role: PartnerRole.PartnerAdmin);
        var bob = Make.User(partner.Id);
        await s.CreateAsync(partner, admin, bob);
        var current = (await s.Store.GetAsync(partner.Id, None))!;
        var user = (await s.Store.GetUserAsync(partner.Id, bob.Id, None))!;
        (await s.Directory.FindEmailAsync(bob.Email, None)).Should().NotBeNull();

        await s.Store.RemoveUserAsync(current.Value with { UserCount = 1 }, current.ETag, user.Value, user.ETag,
            Make.Audited("partner.user.removed", bob.Id, Make.T0.AddHours(1)), None);

        (await s.Store.GetUserAsync(partner.Id, bob.Id, None)).Should().BeNull();
        (await s.Directory.FindEmailAsync(bob.Email, None)).Should().BeNull();
        (await s.Store.ListUsersAsync(partner.Id, new PageRequest(50, null), None)).Items.Select(u => u.Id).Should().Equal(admin.Id);
        var after = (await s.Store.GetAsync(partner.Id, None))!;
        after.Value.UserCount.Should().Be(1);

        // The email is free again: the same person can be invited anew.
        var again = Make.User(partner.Id, email: bob.Email);
        await s.Store.AddUserAsync(after.Value with { UserCount = 2 }, after.ETag, again, Make.Audited("partner.user.invited", again.Id, Make.T0.AddHours(2)), None);
        (await s.Directory.FindEmailAsync(bob.Email, None))!.UserId.Should().Be(again.Id);
    }

    [Fact]
    public async Task Timeline_returns_audit_entries_newest_first_with_their_field_changes()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner("Acme");
        var created = Make.Audit("partner.created", partner.Id, Make.T0, new FieldChange("name", null, "Acme"), new FieldChange("tier", null, "registered"));
        var etag = await s.Store.CreateAsync(partner, [], new ChangeSet([created], []), None);
        var tierChange = Make.Audit("partner.updated", partner.Id, Make.T0.AddHours(2), new FieldChange("tier", "registered", "gold"));
        etag = await s.Store.UpdateAsync(partner with { Tier = PartnerTier.Gold }, etag, new ChangeSet([tierChange], []), None);
        var cityChange = Make.Audit("partner.updated", partner.Id, Make.T0.AddHours(5), new FieldChange("city", "Berlin", null)) with { Note = "moved" };
        await s.Store.UpdateAsync(partner with { Tier = PartnerTier.Gold, City = null }, etag, new ChangeSet([cityChange], []), None);

        var timeline = await s.Store.TimelineAsync(partner.Id, new PageRequest(50, null), None);

        timeline.Items.Select(a => a.Id).Should().Equal(cityChange.Id, tierChange.Id, created.Id);
        timeline.Items[0].Should().BeEquivalentTo(cityChange);
        timeline.Items[1].Changes.Should().Equal(new FieldChange("tier", "registered", "gold"));
        timeline.Items[2].Should().BeEquivalentTo(created);
        timeline.Items[2].Changes.Should().Equal(new FieldChange("name", null, "Acme"), new FieldChange("tier", null, "registered"));

        var first = await s.Store.TimelineAsync(partner.Id, new PageRequest(2, null), None);
        first.Items.Select(a => a.Id).Should().Equal(cityChange.Id, tierChange.Id);
        first.NextCursor.Should().NotBeNull();
        var rest = await s.Store.TimelineAsync(partner.Id, new PageRequest(2, first.NextCursor), None);
        rest.Items.Select(a => a.Id).Should().Equal(created.Id);
    }

    private static async Task ShouldListExactly(TestStores s, PartnerQuery query, params Partner[] expected)
    {
        var page = await s.Store.ListAsync(query, new PageRequest(50, null), None);
        page.Items.Should().BeEquivalentTo(expected, $"query {query}");
        var raw = await TestStores.RowsAsync(s.Tables.PartnerIndex, query.ChannelManagerId is null ? PartnerIndex.AllPartition : PartnerIndex.OwnerPartition(query.ChannelManagerId));
        if (query.NamePrefix is null)
        {
            raw.Where(r => !PartnerIndex.IsGone(r)).Select(r => r.RowKey).Should().OnlyHaveUniqueItems().And.HaveCount(expected.Length, "no stale index rows remain");
        }
    }
}
