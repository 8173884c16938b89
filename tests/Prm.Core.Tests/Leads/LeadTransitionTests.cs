using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Leads;

namespace Prm.Core.Tests.Leads;

public class LeadTransitionTests
{
    private static readonly DateTimeOffset Now = Make.Now;
    private static readonly string Own = Make.PartnerId('a');
    private static readonly string Other = Make.PartnerId('b');

    public static Lead New() => new()
    {
        Id = "lead_" + new string('1', 32), Status = LeadStatus.New,
        Company = new LeadCompany("Contoso", "contoso.example", "DE", "emea", "10115", "Manufacturing", "200-999"),
        Contact = new LeadContact("Chris", "chris@contoso.example", null, null), ProductLines = ["cloud-backup"], ConsentToShare = true,
        CreatedBy = "usr_admin", CreatedByName = "Ada", CreatedAt = Now, UpdatedAt = Now, Grade = "A",
    };

    private static RoutingDecision To(string partnerId) =>
        new(new RoutingEntry { PartnerId = partnerId, Name = "P", Tier = "gold", Country = "DE", Region = "emea" },
            new RoutingTrace([], 0, "r", "weighted", [], 0, 1, partnerId, "offered", Now), null);

    public static Lead Offered(string partnerId) => New().Route(To(partnerId), new LeadSettings(), Now, "lead.created", [], []).Lead;

    [Fact]
    public void An_offer_raises_lead_offered_and_emails_the_partners_admins_with_the_accept_deadline()
    {
        var change = New().Route(To(Own), new LeadSettings(), Now, "lead.created", [new LeadRaised(LeadEvents.Created)], []);
        change.Lead.Status.Should().Be(LeadStatus.Offered);
        change.Lead.PendingOffer!.ExpiresAt.Should().Be(Now + TimeSpan.FromHours(48));
        change.Events.Select(e => e.Type).Should().Equal(LeadEvents.Created, LeadEvents.Offered);
        change.Notices.Should().ContainSingle(n => n.Template == "lead-offered" && n.To == LeadAudience.PartnerAdmins && n.PartnerId == Own);
    }

    [Fact]
    public void Accepting_after_the_deadline_is_gone_and_accepting_twice_is_a_conflict()
    {
        var lead = Offered(Own);
        var s = new LeadSettings();
        FluentActions.Invoking(() => lead.Accept(Make.PartnerUser(Own), s, Now + TimeSpan.FromHours(48))).Should().Throw<OfferExpiredException>();
        var accepted = lead.Accept(Make.PartnerUser(Own), s, Now.AddHours(1)).Lead;
        accepted.Status.Should().Be(LeadStatus.Accepted);
        accepted.AssignedTo.Should().Be("usr_puser", "a rep who accepts works the lead");
        accepted.ConvertBy.Should().Be(Now.AddHours(1) + s.ConversionWindow);
        FluentActions.Invoking(() => accepted.Accept(Make.PartnerAdmin(Own), s, Now.AddHours(2))).Should().Throw<ConflictException>();
        FluentActions.Invoking(() => lead.Accept(Make.PartnerAdmin(Other), s, Now)).Should().Throw<NotFoundException>("another partner's offer does not exist for it");
    }

    [Fact]
    public void Expiry_excludes_the_partner_and_converting_twice_is_a_conflict()
    {
        var lead = Offered(Own);
        var change = lead.ExpireOffer(lead.PendingOffer!.Id, Now.AddHours(49))!;
        change.Lead.ExcludedPartners.Should().Contain(Own);
        change.Events.Single().Type.Should().Be(LeadEvents.Expired);
        lead.ExpireOffer("lof_unknown", Now).Should().BeNull();
        change.Lead.ExpireOffer(lead.PendingOffer.Id, Now.AddHours(50)).Should().BeNull("an offer expires once");

        var worked = Offered(Own).Accept(Make.PartnerAdmin(Own), new LeadSettings(), Now).Lead;
        var converted = worked.Convert("deal_x", "Pat", Now).Lead;
        converted.Status.Should().Be(LeadStatus.Converted);
        FluentActions.Invoking(() => converted.Convert("deal_y", "Pat", Now)).Should().Throw<ConflictException>().WithMessage("*deal_x*");
    }

    [Fact]
    public void Masking_hides_the_customer_until_the_partner_accepts()
    {
        var lead = Offered(Own);
        var masked = LeadDto.ForPartner(lead, Own);
        masked.Masked.Should().BeTrue();
        masked.Company.Name.Should().BeNull();
        masked.Company.Domain.Should().BeNull();
        masked.Company.PostalCode.Should().BeNull();
        masked.Contact.Should().BeNull();
        masked.Notes.Should().BeNull();
        masked.Company.Industry.Should().Be("Manufacturing");
        masked.AcceptDeadline.Should().Be(lead.PendingOffer!.ExpiresAt);
        masked.Offers.Single().Trace.Should().BeNull("partners never see routing traces");
        var whole = LeadDto.ForPartner(lead.Accept(Make.PartnerAdmin(Own), new LeadSettings(), Now).Lead, Own);
        whole.Masked.Should().BeFalse();
        whole.Contact!.Email.Should().Be("chris@contoso.example");
    }

    // Role x situation -> may read. The lead is offered to Own (pending), or held by Own and assigned to usr_rep.
    [Theory]
    [InlineData("admin", "pending", true)]
    [InlineData("cm", "pending", true)]
    [InlineData("integration", "pending", true)]
    [InlineData("ownAdmin", "pending", true)]
    [InlineData("ownRep", "pending", true)]
    [InlineData("otherAdmin", "pending", false)]
    [InlineData("ownAdmin", "held", true)]
    [InlineData("assignedRep", "held", true)]
    [InlineData("ownRep", "held", false)]
    [InlineData("otherAdmin", "held", false)]
    public void Who_may_read_a_lead(string who, string situation, bool allowed)
    {
        var lead = Offered(Own);
        if (situation == "held") lead = lead.Accept(Make.PartnerUser(Own, "usr_rep"), new LeadSettings(), Now).Lead;
        Caller caller = who switch
        {
            "admin" => Make.Admin(),
            "cm" => Make.ChannelManager("usr_cm1"),
            "integration" => new Caller("app_crm", "crm@app", "CRM", [AppRoles.Integration], null, null),
            "ownAdmin" => Make.PartnerAdmin(Own),
            "ownRep" => Make.PartnerUser(Own, "usr_rep2"),
            "assignedRep" => Make.PartnerUser(Own, "usr_rep"),
            _ => Make.PartnerAdmin(Other),
        };
        LeadAccess.Allows(caller, LeadOperation.Read, lead).Should().Be(allowed);
    }

    [Fact]
    public void Three_expired_or_recalled_offers_within_the_window_pause_the_partner()
    {
        var s = new LeadSettings();
        var figures = LeadPartnerFigures.Empty(Own);
        var paused = false;
        for (var i = 0; i < 3; i++)
        {
            var lead = Offered(Own);
            var offered = LeadDto.Vendor(lead);
            (figures, _) = figures.Apply("evt_o" + i, LeadEvents.Offered, offered, Now.AddDays(i), s);
            var expired = LeadDto.Vendor(lead.ExpireOffer(lead.PendingOffer!.Id, Now.AddDays(i).AddHours(48))!.Lead);
            (figures, paused) = figures.Apply("evt_e" + i, LeadEvents.Expired, expired, Now.AddDays(i).AddHours(48), s);
            // A redelivered event changes nothing.
            figures.Apply("evt_e" + i, LeadEvents.Expired, expired, Now.AddDays(i).AddHours(48), s).Figures.Should().Be(figures);
            if (i < 2) paused.Should().BeFalse();
        }
        paused.Should().BeTrue();
        figures.PausedUntil.Should().Be(Now.AddDays(2).AddHours(48) + s.PauseFor);
        figures.Expired.Should().Be(3);
        figures.OpenLeadIds.Should().BeEmpty();
        var entry = figures.ToEntry(new RoutingEntry { PartnerId = Own, Name = "P", Tier = "gold", Country = "DE", Region = "emea" }, Now.AddDays(3), s);
        LeadRouting.Ineligible(entry, null, s, new HashSet<string>(), Now.AddDays(3)).Should().Be("paused from routing");
        figures.ToStats(Now.AddDays(3)).PausedUntil.Should().NotBeNull();
    }

    [Fact]
    public void An_automatic_recall_is_a_strike_and_a_vendor_recall_is_not()
    {
        var s = new LeadSettings();
        var worked = Offered(Own).Accept(Make.PartnerAdmin(Own), s, Now).Lead;
        var automatic = LeadDto.Vendor(worked.Recall("PrmFunctions", Lead.AutomaticRecallReason, Now.AddDays(38)).Lead);
        var byVendor = LeadDto.Vendor(worked.Recall("Ada", "customer asked for another partner", Now.AddDays(2)).Lead);
        var (struck, _) = LeadPartnerFigures.Empty(Own).Apply("evt_a", LeadEvents.Recalled, automatic, Now.AddDays(38), s, Lead.AutomaticRecallReason);
        struck.Strikes.Should().ContainSingle();
        struck.Recalled.Should().Be(1);
        var (spared, _) = LeadPartnerFigures.Empty(Own).Apply("evt_v", LeadEvents.Recalled, byVendor, Now.AddDays(2), s, "customer asked for another partner");
        spared.Strikes.Should().BeEmpty();
        spared.Recalled.Should().Be(1);
        spared.OpenLeadIds.Should().BeEmpty("a recalled lead is no longer open for the partner");
    }

    [Fact]
    public void Settings_out_of_range_are_refused_naming_the_field()
    {
        FluentActions.Invoking(() => LeadSettings.Validate(new LeadSettings { MaxHops = 0 })).Should().Throw<ValidationFailedException>().Which.Errors.Should().ContainKey("maxHops");
        FluentActions.Invoking(() => LeadSettings.Validate(new LeadSettings { ReminderFractions = [0.9, 0.5] })).Should().Throw<ValidationFailedException>().Which.Errors.Should().ContainKey("reminderFractions");
        FluentActions.Invoking(() => LeadSettings.Validate(new LeadSettings { Rules = [new LeadRule { Name = "x", Action = "partner" }] })).Should().Throw<ValidationFailedException>().Which.Errors.Should().ContainKey("rules[0].partnerId");
        FluentActions.Invoking(() => LeadSettings.Validate(new LeadSettings { AcceptWindow = TimeSpan.Zero })).Should().Throw<ValidationFailedException>().Which.Errors.Should().ContainKey("acceptWindow");
        LeadSettings.Validate(new LeadSettings());
    }
}
