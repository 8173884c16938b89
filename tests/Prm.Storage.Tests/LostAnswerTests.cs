using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;
using Prm.Testing;

namespace Prm.Storage.Tests;

/// <summary>
/// Writes whose answer is lost after they went through: the storage client resends them and the resend meets what the first send wrote
/// (409 for an insert, 412 for an If-Match write). Each write must answer what happened, as it would have without the loss. Seen in
/// double runs at a load average near 30; here <see cref="LostAnswerPolicy"/> loses the answer on purpose.
/// </summary>
public sealed class LostAnswerTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private const string Tenant = "11111111-1111-1111-1111-111111111111";

    private static Func<Azure.Core.HttpMessage, bool> Insert(Azure.Data.Tables.TableClient table) =>
        m => m.Request.Method == Azure.Core.RequestMethod.Post && m.Request.Uri.Path.EndsWith("/" + table.Name, StringComparison.Ordinal);

    private static Func<Azure.Core.HttpMessage, bool> Batch => m => m.Request.Method == Azure.Core.RequestMethod.Post && m.Request.Uri.Path.EndsWith("/$batch", StringComparison.Ordinal);

    [Fact]
    public async Task A_partner_creation_whose_transaction_answer_is_lost_is_created_once()
    {
        var lose = new LostAnswerPolicy();
        var s = await TestStores.CreateAsync(lose);
        var partner = Make.Partner("Lost Answer Ltd", channelManagerId: "usr_cm1");
        lose.LoseNext(Batch);

        var etag = await s.CreateAsync(partner, Make.User(partner.Id, role: PartnerRole.PartnerAdmin));

        lose.Lost.Should().Be(1);
        var stored = (await s.Store.GetAsync(partner.Id, None))!;
        stored.ETag.Should().Be(etag);
        stored.Value.Should().Be(partner with { Revision = 1 });
        (await s.Store.ListAsync(new PartnerQuery("usr_cm1", null, null, null, null), new PageRequest(10, null), None)).Items.Should().ContainSingle();
    }

    [Fact]
    public async Task A_partner_update_whose_transaction_answer_is_lost_succeeds_and_the_list_shows_it()
    {
        var lose = new LostAnswerPolicy();
        var s = await TestStores.CreateAsync(lose);
        var partner = Make.Partner("Lost Answer Ltd");
        await s.CreateAsync(partner);
        var current = (await s.Store.GetAsync(partner.Id, None))!;
        lose.LoseNext(Batch);

        var etag = await s.Store.UpdateAsync(current.Value with { Tier = PartnerTier.Gold }, current.ETag,
            Make.Audited("partner.updated", partner.Id, Make.T0.AddHours(1), new FieldChange("tier", "registered", "gold")), None);

        lose.Lost.Should().Be(1);
        var stored = (await s.Store.GetAsync(partner.Id, None))!;
        stored.ETag.Should().Be(etag, "the answer carries the committed row's ETag, so the next If-Match write works");
        stored.Value.Tier.Should().Be(PartnerTier.Gold);
        (await s.Store.ListAsync(new PartnerQuery(null, null, null, null, null), new PageRequest(10, null), None)).Items.Should().ContainSingle()
            .Which.Tier.Should().Be(PartnerTier.Gold);
    }

    [Fact]
    public async Task An_invitation_whose_email_claim_answer_is_lost_adds_the_user()
    {
        var lose = new LostAnswerPolicy();
        var s = await TestStores.CreateAsync(lose);
        var partner = Make.Partner("Lost Answer Ltd", users: 1, admins: 1);
        await s.CreateAsync(partner, Make.User(partner.Id, role: PartnerRole.PartnerAdmin));
        var current = (await s.Store.GetAsync(partner.Id, None))!;
        var invited = Make.User(partner.Id);
        lose.LoseNext(Insert(s.Tables.Keys));

        await s.Store.AddUserAsync(current.Value with { UserCount = 2 }, current.ETag, invited, Make.Audited("partner.user.invited", invited.Id, Make.T0), None);

        lose.Lost.Should().Be(1);
        (await s.Store.GetUserAsync(partner.Id, invited.Id, None)).Should().NotBeNull("the claim the resend met was the invitation's own");
        (await s.Directory.FindEmailAsync(invited.Email, None)).Should().Be(new EmailRegistration(invited.Email, invited.Id, partner.Id));
    }

    [Fact]
    public async Task A_staff_registration_whose_email_key_answer_is_lost_keeps_the_staff_member()
    {
        var lose = new LostAnswerPolicy();
        var s = await TestStores.CreateAsync(lose);
        var email = Make.Email("cm");
        var oid = Guid.NewGuid().ToString();
        lose.LoseNext(Insert(s.Tables.Keys));

        var link = await s.Directory.RegisterStaffAsync(Tenant, oid, email, "Carla Manager", [AppRoles.ChannelManager], None);

        lose.Lost.Should().Be(1);
        (await s.Directory.FindEmailAsync(email, None)).Should().Be(new EmailRegistration(email, link.UserId, null));
        (await s.Staff.GetAsync(link.UserId, None)).Should().NotBeNull("the key names this staff member, so its row must stay");
        (await s.Directory.FindIdentityAsync(Tenant, oid, None)).Should().Be(link);
    }

    [Fact]
    public async Task A_budget_whose_key_row_answer_is_lost_is_created_and_a_second_budget_of_the_period_is_still_refused()
    {
        var lose = new LostAnswerPolicy();
        var s = await TestStores.CreateAsync(lose);
        var store = new Prm.Storage.Mdf.TableMdfStore(s.Tables, s.Writer, Microsoft.Extensions.Logging.Abstractions.NullLogger<Prm.Storage.Mdf.TableMdfStore>.Instance);
        var partnerId = Ids.New("ptn");
        Prm.Core.Mdf.MdfBudget Budget() => new(Ids.New("mdb"), partnerId, "2027-Q1", new DateOnly(2027, 1, 1), new DateOnly(2027, 3, 31), "USD",
            new Money(0m, "USD"), null, null, "usr_admin", Make.T0);
        Prm.Core.Partners.ChangeSet Changes(string budgetId) => Make.Audited("mdf.budget.created", budgetId, Make.T0);
        var budget = Budget();
        lose.LoseNext(Insert(s.Tables.MdfIndex));

        await store.CreateBudgetAsync(budget, Prm.Core.Mdf.BudgetBalance.Empty("USD"), [], Changes(budget.Id), None);

        lose.Lost.Should().Be(1);
        (await store.GetBudgetAsync(budget.Id, None)).Should().NotBeNull("the key the resend met names this budget");
        var second = Budget();
        var again = () => store.CreateBudgetAsync(second, Prm.Core.Mdf.BudgetBalance.Empty("USD"), [], Changes(second.Id), None);
        (await again.Should().ThrowAsync<ConflictException>()).Which.Field.Should().Be("period");
        (await store.GetBudgetAsync(second.Id, None)).Should().BeNull();
    }

    [Fact]
    public async Task A_house_account_whose_insert_answer_is_lost_is_saved_and_another_body_under_its_id_is_a_conflict()
    {
        var lose = new LostAnswerPolicy();
        var s = await TestStores.CreateAsync(lose);
        var store = new Prm.Storage.Deals.TableHouseAccountStore(s.Tables);
        var account = new Prm.Core.Deals.HouseAccount(Ids.New("hac"), "Contoso Direct", "contoso.example", "contoso direct", ["contoso.example"], "Ada Admin", Make.T0);
        lose.LoseNext(Insert(s.Tables.Catalog));

        var etag = await store.SaveAsync(account, null, null, None);

        lose.Lost.Should().Be(1);
        var stored = (await store.GetAsync(account.Id, None))!;
        stored.ETag.Should().Be(etag);
        stored.Value.Should().BeEquivalentTo(account);
        var other = () => store.SaveAsync(account with { Name = "Someone else" }, null, null, None);
        await other.Should().ThrowAsync<ConflictException>();
        (await store.GetAsync(account.Id, None))!.Value.Name.Should().Be("Contoso Direct");
    }

    [Fact]
    public async Task Webhook_writes_whose_answers_are_lost_answer_as_they_would_have_a_creation_a_rotation_and_a_ping()
    {
        var lose = new LostAnswerPolicy();
        var s = await TestStores.CreateAsync(lose);
        var clock = TimeProvider.System;
        var queue = new Prm.Storage.Integration.WebhookQueue(s.Tables, clock);
        var webhooks = new Prm.Storage.Integration.Webhooks(s.Tables, new Prm.Core.Integration.WebhookOptions { AllowLoopback = true }, queue, clock);
        var admin = new Caller("usr_admin_wh", "ada@vendor.example", "Ada Admin", [AppRoles.Admin], null, null);
        var writes = s.Tables.Webhooks;

        lose.LoseNext(Insert(writes));
        var created = await webhooks.CreateAsync(admin, new Prm.Core.Integration.CreateWebhookRequest("http://127.0.0.1:9/hook", ["deal.*"], null), None);
        lose.Lost.Should().Be(1);
        (await webhooks.GetAsync(admin, created.Webhook.Id, None)).Id.Should().Be(created.Webhook.Id);

        lose.LoseNext(m => m.Request.Method == Azure.Core.RequestMethod.Put && m.Request.Uri.Path.Contains("/" + writes.Name + "(", StringComparison.Ordinal));
        var rotated = await webhooks.RotateSecretAsync(admin, created.Webhook.Id, new Prm.Core.Integration.RotateSecretRequest(24), None);
        lose.Lost.Should().Be(2);
        var stored = (await writes.GetEntityAsync<Azure.Data.Tables.TableEntity>(Prm.Storage.Integration.WebhookRows.SubscriptionPartition, created.Webhook.Id)).Value;
        stored.GetString("Secret").Should().Be(rotated.Secret, "the secret the caller was shown is the one stored");
        stored.GetString("PreviousSecret").Should().Be(created.Secret, "the receiver's old secret still verifies during the overlap");

        lose.LoseNext(Batch);
        var ping = await webhooks.PingAsync(admin, created.Webhook.Id, None);
        lose.Lost.Should().Be(3);
        ping.Status.Should().Be("Pending");
        (await webhooks.DeliveryAsync(admin, created.Webhook.Id, ping.Id, None)).Id.Should().Be(ping.Id);
    }
}
