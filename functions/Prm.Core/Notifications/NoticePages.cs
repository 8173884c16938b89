namespace Prm.Core.Notifications;

/// <summary>One line of a notice page: a label and its value.</summary>
public sealed record NoticeDetail(string Label, string Value);

/// <summary>
/// Small branded HTML pages for people who open an emailed link in a browser (one template, "notice.page"): a title, a message, details,
/// and at most one button that posts the form back. Values are HTML-encoded; no stack trace or raw JSON ever reaches them.
/// </summary>
public sealed class NoticePages(EmailComposer composer)
{
    public string Render(string title, string? message, IReadOnlyList<NoticeDetail>? details = null, string? formButton = null, string? note = null) =>
        composer.RenderPage("notice", new { title, message, details = details ?? [], formButton, note });
}
