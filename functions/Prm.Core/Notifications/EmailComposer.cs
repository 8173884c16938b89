using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Encodings.Web;
using Fluid;
using Prm.Core.Outbox;

namespace Prm.Core.Notifications;

/// <summary>
/// Renders the program's emails from Liquid templates embedded in this assembly (subject, text, HTML) and its pages, all in the program's
/// brand (<c>brand</c> in every template: name, colour, logo URL, support email, footer, legal links; the defaults without a source).
/// </summary>
public sealed class EmailComposer
{
    private static readonly FluidParser Parser = new();
    private static readonly ConcurrentDictionary<string, IFluidTemplate> Cache = new();
    private readonly TemplateOptions options;
    private readonly Branding.BrandSource? brand;
    private readonly Configuration.ProgramOptions? program;

    public EmailComposer(Branding.BrandSource? brand = null, Configuration.ProgramOptions? program = null)
    {
        this.brand = brand;
        this.program = program;
        options = new TemplateOptions();
        // Templates name members in camelCase, as the API's JSON does; C# records are PascalCase.
        options.MemberAccessStrategy = new UnsafeMemberAccessStrategy { IgnoreCasing = true };
    }

    /// <summary>Renders template <paramref name="name"/> with the model (an anonymous object or dictionary).</summary>
    public EmailMessage Compose(string name, string to, string? toName, object model)
    {
        var context = Branded(new TemplateContext(model, options));
        var subject = Render($"{name}.subject", context, NullEncoder.Default).Trim();
        context.SetValue("subject", subject);
        var text = Render($"{name}.text", context, NullEncoder.Default).TrimEnd() + "\n\n-- \n" + TextFooter(Brand);
        var body = Render($"{name}.html", context, HtmlEncoder.Default);
        context.SetValue("body", body);
        var html = Render("layout.html", context, HtmlEncoder.Default);
        // Who caused it (the request's caller, or a link's recipient acting through it): the gate drops an email to that same person.
        var actor = Identity.Acting.Caller is { } caller && caller.UserId != Identity.Caller.System.UserId ? caller.Email : null;
        return new EmailMessage(to, toName, subject, text, html, name, actor);
    }

    /// <summary>The marker in the layout where <see cref="WithUnsubscribe"/> puts the unsubscribe link.</summary>
    public const string UnsubscribeMarker = "<!--unsubscribe-->";

    /// <summary>
    /// The email with a one-click unsubscribe link for one kind: a line in the plain text, a link in the HTML footer, and the
    /// List-Unsubscribe and List-Unsubscribe-Post headers (RFC 8058).
    /// </summary>
    public static EmailMessage WithUnsubscribe(EmailMessage email, string url, string kindLabel)
    {
        var line = $"Stop emails about {kindLabel}: {url}";
        var cut = email.Text.LastIndexOf("\n-- \n", StringComparison.Ordinal);
        var text = cut < 0 ? email.Text.TrimEnd() + "\n\n" + line + "\n" : email.Text[..cut] + "\n" + line + "\n" + email.Text[cut..];
        var link = $"<p style=\"font-size:12px;color:#57606a\"><a href=\"{HtmlEncoder.Default.Encode(url)}\">Unsubscribe from emails about {HtmlEncoder.Default.Encode(kindLabel)}</a></p>";
        var html = email.Html.Contains(UnsubscribeMarker, StringComparison.Ordinal) ? email.Html.Replace(UnsubscribeMarker, link, StringComparison.Ordinal) : email.Html + link;
        return WithUnsubscribeHeaders(email with { Text = text, Html = html }, url);
    }

    /// <summary>The email with the List-Unsubscribe and List-Unsubscribe-Post (one click, RFC 8058) headers for the link.</summary>
    public static EmailMessage WithUnsubscribeHeaders(EmailMessage email, string url) => email with
    {
        Headers = new Dictionary<string, string>(email.Headers ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase)
        {
            ["List-Unsubscribe"] = $"<{url}>",
            ["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click",
        },
    };

    /// <summary>
    /// The one accessor of portal links in emails: the branding's portal base URL (settings section <c>branding</c>, else configuration
    /// <c>Prm:PortalBaseUrl</c>) joined with <paramref name="path"/> (which starts with a slash).
    /// </summary>
    public string PortalUrl(string path) => Brand.PortalBaseUrl.TrimEnd('/') + path;

    /// <summary>Renders an HTML page template ("{name}.page.liquid") with the model, HTML-encoding every value.</summary>
    public string RenderPage(string name, object model) => Render($"{name}.page", Branded(new TemplateContext(model, options)), HtmlEncoder.Default);

    /// <summary>The current brand (for callers that put it next to their own model, e.g. a plain-text part's footer).</summary>
    public Branding.Brand Brand => brand?.Current ?? Branding.Brand.From(new Branding.BrandingSettings(), program ?? new Configuration.ProgramOptions());

    /// <summary>The plain-text part's footer: the program, the footer text, the support address and the legal links.</summary>
    private static string TextFooter(Branding.Brand b)
    {
        var lines = new List<string> { b.ProgramName, b.EmailFooter };
        if (b.SupportEmail is { } support) lines.Add("Questions? " + support);
        lines.AddRange(b.LegalLinks.Select(l => $"{l.Label}: {l.Url}"));
        return string.Join("\n", lines.Where(l => l.Length > 0)) + "\n";
    }

    private TemplateContext Branded(TemplateContext context)
    {
        context.SetValue("brand", Brand);
        return context;
    }

    private static string Render(string resource, TemplateContext context, TextEncoder encoder) => Load(resource).Render(context, encoder);

    private static IFluidTemplate Load(string resource) => Cache.GetOrAdd(resource, key =>
    {
        var assembly = typeof(EmailComposer).Assembly;
        var fullName = $"Prm.Core.Notifications.Templates.{key}.liquid";
        using var stream = assembly.GetManifestResourceStream(fullName)
            ?? throw new InvalidOperationException($"Email template {fullName} is not embedded.");
        using var reader = new StreamReader(stream);
        var source = reader.ReadToEnd();
        return Parser.TryParse(source, out var template, out var error)
            ? template
            : throw new InvalidOperationException($"Email template {key} does not parse: {error}");
    });

    /// <summary>Every template name embedded (for tests that render them all).</summary>
    public static IEnumerable<string> TemplateNames() => typeof(EmailComposer).Assembly.GetManifestResourceNames()
        .Where(n => n.EndsWith(".subject.liquid", StringComparison.Ordinal))
        .Select(n => n["Prm.Core.Notifications.Templates.".Length..^".subject.liquid".Length]);

    internal static Assembly Assembly => typeof(EmailComposer).Assembly;
}
