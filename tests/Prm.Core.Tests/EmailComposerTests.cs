using System.Text.RegularExpressions;
using Prm.Core.Configuration;
using Prm.Core.Identity;
using Prm.Core.Notifications;
using Prm.Core.Partners;

namespace Prm.Core.Tests;

public partial class EmailComposerTests
{
    private readonly EmailComposer composer = new();

    [GeneratedRegex(@"\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Variable();

    [GeneratedRegex(@"\{%-?\s*for\s+([A-Za-z_][A-Za-z0-9_]*)\s+in")]
    private static partial Regex LoopVariable();

    private static string Source(string resource)
    {
        using var stream = EmailComposer.Assembly.GetManifestResourceStream($"Prm.Core.Notifications.Templates.{resource}.liquid")
            ?? throw new InvalidOperationException($"{resource} is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static object InvitationModel(string userName = "Jane Doe", string partnerName = "Acme GmbH") => new
    {
        userName,
        inviterName = "Carl Manager",
        partnerName,
        roleText = "a partner admin",
        email = "jane@acme.com",
        acceptUrl = "https://portal.example.com/invitations/accept?email=jane%40acme.com&partner=ptn_1",
    };

    public static TheoryData<string> Templates()
    {
        var data = new TheoryData<string>();
        foreach (var name in EmailComposer.TemplateNames()) data.Add(name);
        return data;
    }

    [Fact]
    public void The_template_names_include_the_partner_invitation() =>
        EmailComposer.TemplateNames().Should().Contain("partner-invitation").And.NotContain(n => n.Contains("layout"));

    [Theory]
    [MemberData(nameof(Templates))]
    public void Every_template_renders_every_variable_of_its_model(string name)
    {
        var sources = new[] { "subject", "text", "html" }.Select(part => Source($"{name}.{part}")).ToList();
        // A loop's variable (the digest's items) is no model variable: the loop over an absent list renders nothing.
        var loopVariables = sources.SelectMany(s => LoopVariable().Matches(s).Select(m => m.Groups[1].Value)).ToHashSet();
        var variables = sources
            .SelectMany(source => Variable().Matches(source).Select(m => m.Groups[1].Value))
            .Where(v => v is not "subject" and not "body" && !loopVariables.Contains(v))
            .Distinct()
            .ToList();
        variables.Should().NotBeEmpty();
        var model = variables.ToDictionary(v => v, v => (object)$"Value{v}End");

        var email = composer.Compose(name, "to@example.com", "To Name", model);

        email.Template.Should().Be(name);
        email.To.Should().Be("to@example.com");
        email.ToName.Should().Be("To Name");
        email.Subject.Should().NotBeNullOrWhiteSpace().And.NotContain("{{").And.NotContain("\n");
        email.Text.Should().NotBeNullOrWhiteSpace().And.NotContain("{{");
        email.Html.Should().StartWith("<!DOCTYPE html>").And.NotContain("{{");
        var all = email.Subject + email.Text + email.Html;
        foreach (var v in variables) all.Should().Contain($"Value{v}End", $"variable {v} must be rendered");
    }

    [Fact]
    public void The_invitation_subject_names_the_partner_and_the_inviter()
    {
        var email = composer.Compose("partner-invitation", "jane@acme.com", "Jane Doe", InvitationModel());

        email.Subject.Should().Be("Carl Manager invited you to the Acme GmbH partner portal");
    }

    [Fact]
    public void The_invitation_text_contains_the_accept_url_unencoded()
    {
        var email = composer.Compose("partner-invitation", "jane@acme.com", "Jane Doe", InvitationModel());

        email.Text.Should().Contain("https://portal.example.com/invitations/accept?email=jane%40acme.com&partner=ptn_1");
        email.Text.Should().Contain("Hello Jane Doe,").And.Contain("as a partner admin");
    }

    [Fact]
    public void The_invitation_html_links_to_the_accept_url()
    {
        var email = composer.Compose("partner-invitation", "jane@acme.com", "Jane Doe", InvitationModel());

        email.Html.Should().Contain("href=\"https://portal.example.com/invitations/accept?email=jane%40acme.com&amp;partner=ptn_1\"");
    }

    [Fact]
    public void The_invitation_html_encodes_a_malicious_display_name()
    {
        const string evil = "<script>alert(1)</script>";

        var email = composer.Compose("partner-invitation", "jane@acme.com", evil, InvitationModel(userName: evil, partnerName: "<b>Acme</b>"));

        email.Html.Should().NotContain("<script>").And.NotContain("<b>Acme</b>");
        email.Html.Should().Contain("&lt;script&gt;alert(1)&lt;/script&gt;");
        email.Html.Should().Contain("&lt;b&gt;Acme&lt;/b&gt;");
    }

    [Fact]
    public void The_layout_wraps_the_body_and_titles_it_with_the_encoded_subject()
    {
        var email = composer.Compose("partner-invitation", "jane@acme.com", "Jane", InvitationModel(partnerName: "A&B <Partners>"));

        email.Subject.Should().Be("Carl Manager invited you to the A&B <Partners> partner portal");
        email.Html.Should().StartWith("<!DOCTYPE html>");
        email.Html.Should().Contain("<title>Carl Manager invited you to the A&amp;B &lt;Partners&gt; partner portal</title>");
        var main = email.Html.IndexOf("<main", StringComparison.Ordinal);
        var heading = email.Html.IndexOf("<h1", StringComparison.Ordinal);
        var footer = email.Html.IndexOf("You receive this email because", StringComparison.Ordinal);
        main.Should().BeGreaterThan(0);
        heading.Should().BeGreaterThan(main, "the body sits inside the layout's main element");
        footer.Should().BeGreaterThan(heading, "the layout footer follows the body");
        email.Html.Should().NotContain("&lt;h1", "the rendered body must not be encoded a second time");
        email.Html.TrimEnd().Should().EndWith("</html>");
    }

    [Fact]
    public void An_unknown_template_fails_clearly()
    {
        var act = () => composer.Compose("no-such-template", "a@b.com", null, new { });

        act.Should().Throw<InvalidOperationException>().WithMessage("*no-such-template*");
    }

    [Fact]
    public void The_invitation_written_by_the_directory_carries_an_escaped_accept_link()
    {
        var options = new ProgramOptions { PortalBaseUrl = "https://portal.example.com/" };
        var directory = new PartnerDirectory(new FakePartnerStore(), new FakeStaffStore(), TimeProvider.System, new EmailComposer(null, options));
        var partner = Make.Partner();
        var (user, code) = PartnerDirectory.NewUser(partner.Id, "Jane+Sales@Acme.com", "  Jane  ", PartnerRole.PartnerUser, Make.Admin(), Make.Now);

        var message = directory.Invitation(partner, user, code, Make.Admin(), Make.Now);
        var email = message.ReadEmail();

        message.PartnerId.Should().Be(partner.Id);
        message.Type.Should().Be("partner-invitation");
        email.To.Should().Be("jane+sales@acme.com");
        email.ToName.Should().Be("Jane");
        email.Text.Should().Contain($"https://portal.example.com/invitations/accept?code={Uri.EscapeDataString(code)}");
        InvitationCodes.Parse(code)!.UserId.Should().Be(user.Id);
        InvitationCodes.Matches(InvitationCodes.Parse(code)!.Secret, user.InvitationCodeHash).Should().BeTrue("only the hash of the code is stored");
        user.InvitationCodeHash.Should().NotContain(InvitationCodes.Parse(code)!.Secret);
        email.Text.Should().Contain("as a partner user");
        email.Subject.Should().Contain(partner.Name).And.Contain("Ada Admin");
    }
}
