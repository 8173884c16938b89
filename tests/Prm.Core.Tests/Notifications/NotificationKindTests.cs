using Prm.Core.Notifications;

namespace Prm.Core.Tests.Notifications;

public sealed class NotificationKindTests
{
    [Fact]
    public void Every_email_template_belongs_to_exactly_one_kind()
    {
        var unclassified = EmailComposer.TemplateNames().Where(t => t != NotificationKinds.DigestTemplate && NotificationKinds.Of(t) is null).ToList();

        unclassified.Should().BeEmpty("every email is subject to the preferences of its kind");
        NotificationKinds.Templates.Keys.Should().BeSubsetOf(EmailComposer.TemplateNames(), "a classified template exists");
    }

    [Fact]
    public void The_digest_email_has_no_kind() => NotificationKinds.Of(NotificationKinds.DigestTemplate).Should().BeNull();

    [Theory]
    [InlineData("partner-invitation", NotificationKind.Invitations)]
    [InlineData("lead-offered", NotificationKind.LeadOffers)]
    [InlineData("deal-review", NotificationKind.ReviewRequests)]
    [InlineData("deal-returned", NotificationKind.InfoRequests)]
    [InlineData("application-info-requested", NotificationKind.InfoRequests)]
    [InlineData("deal-approved", NotificationKind.DealUpdates)]
    [InlineData("tier-notice", NotificationKind.TierUpdates)]
    [InlineData("asset-digest", NotificationKind.ContentUpdates)]
    public void Templates_are_classified_by_what_they_ask_of_the_reader(string template, NotificationKind kind) =>
        NotificationKinds.Of(template).Should().Be(kind);

    [Theory]
    [InlineData(NotificationKind.Invitations, true)]
    [InlineData(NotificationKind.Agreements, true)]
    [InlineData(NotificationKind.ReviewRequests, true)]
    [InlineData(NotificationKind.InfoRequests, true)]
    [InlineData(NotificationKind.LeadOffers, true)]
    [InlineData(NotificationKind.ApplicantMessages, true)]
    [InlineData(NotificationKind.DealUpdates, false)]
    [InlineData(NotificationKind.MdfUpdates, false)]
    [InlineData(NotificationKind.ContentUpdates, false)]
    public void Decisions_with_deadlines_and_access_are_locked(NotificationKind kind, bool locked) =>
        NotificationKinds.IsLocked(kind).Should().Be(locked);

    [Fact]
    public void Kind_names_are_camel_case_and_parse_back()
    {
        foreach (var kind in NotificationKinds.All) NotificationKinds.Parse(NotificationKinds.Name(kind)).Should().Be(kind);
        NotificationKinds.Name(NotificationKind.DealUpdates).Should().Be("dealUpdates");
        NotificationKinds.Parse("DealUpdates").Should().BeNull("names are exact");
        NotificationKinds.Parse(null).Should().BeNull();
    }
}
