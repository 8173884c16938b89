using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Encodings.Web;
using Fluid;
using Prm.Core.Outbox;

namespace Prm.Core.Notifications;

/// <summary>Renders the program's emails from Liquid templates embedded in this assembly (subject, text, HTML).</summary>
public sealed class EmailComposer
{
    private static readonly FluidParser Parser = new();
    private static readonly ConcurrentDictionary<string, IFluidTemplate> Cache = new();
    private readonly TemplateOptions options;

    public EmailComposer()
    {
        options = new TemplateOptions();
        // Templates name members in camelCase, as the API's JSON does; C# records are PascalCase.
        options.MemberAccessStrategy = new UnsafeMemberAccessStrategy { IgnoreCasing = true };
    }

    /// <summary>Renders template <paramref name="name"/> with the model (an anonymous object or dictionary).</summary>
    public EmailMessage Compose(string name, string to, string? toName, object model)
    {
        var context = new TemplateContext(model, options);
        var subject = Render($"{name}.subject", context, NullEncoder.Default).Trim();
        context.SetValue("subject", subject);
        var text = Render($"{name}.text", context, NullEncoder.Default);
        var body = Render($"{name}.html", context, HtmlEncoder.Default);
        context.SetValue("body", body);
        var html = Render("layout.html", context, HtmlEncoder.Default);
        return new EmailMessage(to, toName, subject, text, html, name);
    }

    /// <summary>Renders an HTML page template ("{name}.page.liquid") with the model, HTML-encoding every value.</summary>
    public string RenderPage(string name, object model) => Render($"{name}.page", new TemplateContext(model, options), HtmlEncoder.Default);

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
