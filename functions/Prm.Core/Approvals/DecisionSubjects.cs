using System.Globalization;
using Prm.Core.Common;

namespace Prm.Core.Approvals;

/// <summary>The fields of the decision form (the page's buttons post them; JSON works too).</summary>
public sealed record DecisionForm(string? Decision, string? Reason);

/// <summary>Where a decision through a link came from (recorded where the decision records it, e.g. the agreement acceptance).</summary>
public sealed record DecisionContext(string? ClientIp, string? UserAgent);

/// <summary>
/// What a link decides, as its recipient sees it now: why it can no longer be decided (null while it can), and the page with an
/// optional message — with the decision buttons when given the link that may still decide. <paramref name="Lapsed"/> says the
/// subject closed because its own deadline passed (an expired review or offer): the link then ended with it (410), whatever
/// its own expiry says. A subject closed by a decision is a conflict (409).
/// </summary>
public sealed record DecisionView(string? ClosedMessage, Func<string?, DecisionLink?, string> Render, bool Lapsed = false);

/// <summary>A decision that ran: the outcome recorded on the link and the page that says what happened.</summary>
public sealed record DecisionDone(string Outcome, string Page);

/// <summary>
/// A kind of decision link, registered by its feature: the decision-link router resolves and claims the link, then hands it to the
/// subject of its kind. Failures are the usual exceptions (the one problem map gives their status).
/// </summary>
public interface IDecisionSubject
{
    /// <summary>The link kinds this subject decides.</summary>
    IReadOnlyList<string> Kinds { get; }

    /// <summary>The subject as the link's recipient sees it (404 when it is gone or the recipient may no longer see it).</summary>
    Task<DecisionView> ViewAsync(DecisionLink link, CancellationToken ct);

    /// <summary>Performs <paramref name="decision"/> (one of the link's decisions) as the link's recipient.</summary>
    Task<DecisionDone> DecideAsync(DecisionLink link, string decision, string? reason, DecisionContext context, CancellationToken ct);

    /// <summary>What the page says once the link was used.</summary>
    string UsedMessage(DecisionLink link) => $"Already decided by {link.UsedByName} at {DecisionPages.Format(link.UsedAt)}: {link.Outcome}.";
}

/// <summary>Routes decision links to their subjects: one place for resolving, claiming, deciding and giving a failed claim back.</summary>
public sealed class DecisionLinkRouter(DecisionLinks links, IEnumerable<IDecisionSubject> subjects, DecisionPages pages)
{
    private readonly IReadOnlyDictionary<string, IDecisionSubject> byKind = subjects.SelectMany(s => s.Kinds.Select(k => (k, s))).ToDictionary(p => p.k, p => p.s, StringComparer.Ordinal);

    /// <summary>The page of a link (GET): never changes anything, since mail scanners open links.</summary>
    public async Task<string> ShowAsync(string token, CancellationToken ct)
    {
        var (link, subject) = await ResolveAsync(token, ct);
        var view = await ViewAsync(subject, link.Value, ct);
        if (DecisionLinks.IsDeciding(link.Value)) return view.Render("This link is being used right now; open it again in a moment.", null);
        if (link.Value.UsedAt is not null) return view.Render(subject.UsedMessage(link.Value), null);
        if (view.Lapsed && view.ClosedMessage is { } lapsed) throw Page(new LinkExpiredException(lapsed), view.Render(lapsed, null));
        return view.ClosedMessage is { } closed ? view.Render(closed, null) : view.Render(null, link.Value);
    }

    /// <summary>
    /// Decides through the link (POST), once: the link is claimed with its ETag before the decision runs, so of concurrent posts exactly
    /// one decides and the others get a conflict. A failed decision gives the claim back. Failures throw <see cref="DecisionPageException"/>.
    /// </summary>
    public async Task<string> DecideAsync(string token, DecisionForm form, DecisionContext context, CancellationToken ct)
    {
        var (link, subject) = await ResolveAsync(token, ct);
        var view = await ViewAsync(subject, link.Value, ct);
        if (DecisionLinks.IsDeciding(link.Value)) throw Page(new ConflictException("This link is being used right now."), view.Render("This link is being used right now; open it again in a moment.", null));
        if (link.Value.UsedAt is not null) throw Page(new ConflictException(subject.UsedMessage(link.Value)), view.Render(subject.UsedMessage(link.Value), null));
        if (view.ClosedMessage is { } closed) throw Page(view.Lapsed ? new LinkExpiredException(closed) : new ConflictException(closed), view.Render(closed, null));
        if (form.Decision is not { } chosen || !link.Value.Decisions.Contains(chosen))
        {
            var message = "decision must be one of: " + string.Join(", ", link.Value.Decisions) + ".";
            throw Page(new ValidationFailedException("decision", message), view.Render(message, link.Value));
        }
        var claimed = await links.ClaimAsync(link, ct);
        if (claimed is null)
        {
            const string message = "This link was used at the same moment; open it again to see the outcome.";
            throw Page(new ConflictException(message), view.Render(message, null));
        }
        // The recipient acts through the link: emails the decision causes are not sent back to them.
        Identity.Acting.Caller = DecisionLinks.RecipientOf(link.Value);
        try
        {
            var done = await subject.DecideAsync(link.Value, chosen, string.IsNullOrWhiteSpace(form.Reason) ? null : form.Reason, context, ct);
            await links.CompleteAsync(claimed, done.Outcome, CancellationToken.None);
            return done.Page;
        }
        catch (PrmException ex)
        {
            await links.ReleaseAsync(claimed, CancellationToken.None);
            throw Page(ex, view.Render(ex.Message, ex is ValidationFailedException ? link.Value : null));
        }
        catch
        {
            await links.ReleaseAsync(claimed, CancellationToken.None);
            throw;
        }
    }

    private async Task<(Versioned<DecisionLink> Link, IDecisionSubject Subject)> ResolveAsync(string token, CancellationToken ct)
    {
        Versioned<DecisionLink> link;
        try
        {
            link = await links.ResolveAsync(token, ct);
        }
        catch (NotFoundException ex)
        {
            throw Page(ex, pages.Plain("Link not valid", "This link is not valid. Open the latest email, or sign in to the portal."));
        }
        catch (LinkExpiredException ex)
        {
            throw Page(ex, pages.Plain("Link expired", ex.Message + " Sign in to the portal to see where things stand."));
        }
        if (!byKind.TryGetValue(link.Value.Kind, out var subject)) throw Page(new NotFoundException("Decision link"), pages.Plain("Link not valid", "This link is not valid."));
        return (link, subject);
    }

    private async Task<DecisionView> ViewAsync(IDecisionSubject subject, DecisionLink link, CancellationToken ct)
    {
        try
        {
            return await subject.ViewAsync(link, ct);
        }
        catch (NotFoundException ex)
        {
            throw Page(ex, pages.Plain("Link not valid", "What this link was for no longer exists."));
        }
    }

    private static DecisionPageException Page(PrmException problem, string page) => new(problem, page);
}

/// <summary>A decision link that could not be shown or used: the failure (its status comes from the one problem map) and the page that explains it.</summary>
public sealed class DecisionPageException(PrmException problem, string page) : Exception(problem.Message, problem)
{
    public PrmException Problem { get; } = problem;

    public string Page { get; } = page;
}

/// <summary>The HTML of decision pages (one template, "approval.page"), shared by every subject.</summary>
public sealed class DecisionPages(Notifications.EmailComposer composer)
{
    public static string Format(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) ?? "";

    /// <summary>A page with a title and a message only.</summary>
    public string Plain(string title, string message) => Render(new { title, message, flags = Array.Empty<string>(), matches = Array.Empty<string>() });

    /// <summary>Renders the decision page with a subject's model (see the template for the fields it reads).</summary>
    public string Render(object model) => composer.RenderPage("approval", model);
}
