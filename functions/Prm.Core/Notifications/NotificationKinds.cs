namespace Prm.Core.Notifications;

/// <summary>
/// What a person may choose per kind of notification: every email at once, one email a day or a week listing them (digests), or none.
/// </summary>
public enum DeliveryMode { Immediate, DailyDigest, WeeklyDigest, Off }

/// <summary>The kinds of notification a person chooses a <see cref="DeliveryMode"/> for. Every email template belongs to exactly one.</summary>
public enum NotificationKind
{
    /// <summary>Invitations to join a partner, their reminders, the welcome: access to the account (security).</summary>
    Invitations,
    /// <summary>Program agreements offered, reminded, expired: a decision with a deadline.</summary>
    Agreements,
    /// <summary>Reviews vendor staff must decide within an SLA (applications, deals, extensions, MDF): decisions with deadlines.</summary>
    ReviewRequests,
    /// <summary>Requests for information with a due time (an application's question, a returned deal registration).</summary>
    InfoRequests,
    /// <summary>Lead offers with an accept countdown and their reminders.</summary>
    LeadOffers,
    /// <summary>Emails to applicants, who have no account and so no preferences.</summary>
    ApplicantMessages,
    /// <summary>Outcomes and deadlines of one's deal registrations (approved, rejected, expiring, expired, extensions decided).</summary>
    DealUpdates,
    /// <summary>Leads assigned, recalled, pooled, conversion reminders, partners paused from lead routing.</summary>
    LeadUpdates,
    /// <summary>MDF requests and claims decided or paid.</summary>
    MdfUpdates,
    /// <summary>Assets superseded (the asset digest) or expiring.</summary>
    ContentUpdates,
    /// <summary>Certifications earned, expiring, expired.</summary>
    TrainingUpdates,
    /// <summary>Tier changes, warnings and upgrades.</summary>
    TierUpdates,
    /// <summary>Joint business plan notices.</summary>
    PlanUpdates,
    /// <summary>Reminders of the onboarding checklist.</summary>
    OnboardingReminders,
    /// <summary>Point-of-sale lines in conflict with a registration.</summary>
    PosConflicts,
}

/// <summary>
/// The one classification of the email templates into notification kinds, and which kinds a person may not turn off or digest
/// (decisions with deadlines, access to the account). Listed in docs/rules.md.
/// </summary>
public static class NotificationKinds
{
    /// <summary>The template of the digest email itself: the outcome of preferences, never subject to them.</summary>
    public const string DigestTemplate = "notification-digest";

    private static readonly IReadOnlyDictionary<string, NotificationKind> ByTemplate = new Dictionary<string, NotificationKind>(StringComparer.Ordinal)
    {
        ["partner-invitation"] = NotificationKind.Invitations,
        ["partner-invitation-reminder"] = NotificationKind.Invitations,
        ["partner-welcome"] = NotificationKind.Invitations,
        ["agreement-offer"] = NotificationKind.Agreements,
        ["agreement-reminder"] = NotificationKind.Agreements,
        ["agreement-expired"] = NotificationKind.Agreements,
        ["application-assigned"] = NotificationKind.ReviewRequests,
        ["application-reminder"] = NotificationKind.ReviewRequests,
        ["application-escalated"] = NotificationKind.ReviewRequests,
        ["application-info-answered"] = NotificationKind.ReviewRequests,
        ["deal-review"] = NotificationKind.ReviewRequests,
        ["deal-review-reminder"] = NotificationKind.ReviewRequests,
        ["deal-review-escalated"] = NotificationKind.ReviewRequests,
        ["deal-extension-requested"] = NotificationKind.ReviewRequests,
        ["mdf-review"] = NotificationKind.ReviewRequests,
        ["application-info-requested"] = NotificationKind.InfoRequests,
        ["deal-returned"] = NotificationKind.InfoRequests,
        ["lead-offered"] = NotificationKind.LeadOffers,
        ["lead-offer-reminder"] = NotificationKind.LeadOffers,
        ["application-received"] = NotificationKind.ApplicantMessages,
        ["application-approved"] = NotificationKind.ApplicantMessages,
        ["application-rejected"] = NotificationKind.ApplicantMessages,
        ["application-expired"] = NotificationKind.ApplicantMessages,
        ["deal-approved"] = NotificationKind.DealUpdates,
        ["deal-rejected"] = NotificationKind.DealUpdates,
        ["deal-under-review"] = NotificationKind.DealUpdates,
        ["deal-expiring"] = NotificationKind.DealUpdates,
        ["deal-expired"] = NotificationKind.DealUpdates,
        ["deal-extension-decided"] = NotificationKind.DealUpdates,
        ["lead-assigned"] = NotificationKind.LeadUpdates,
        ["lead-conversion-reminder"] = NotificationKind.LeadUpdates,
        ["lead-recalled"] = NotificationKind.LeadUpdates,
        ["lead-pool"] = NotificationKind.LeadUpdates,
        ["lead-partner-paused"] = NotificationKind.LeadUpdates,
        ["mdf-update"] = NotificationKind.MdfUpdates,
        ["asset-digest"] = NotificationKind.ContentUpdates,
        ["asset-expiring"] = NotificationKind.ContentUpdates,
        ["certification-notice"] = NotificationKind.TrainingUpdates,
        ["tier-notice"] = NotificationKind.TierUpdates,
        ["plan-notice"] = NotificationKind.PlanUpdates,
        ["onboarding-checklist-reminder"] = NotificationKind.OnboardingReminders,
        ["pos-conflict"] = NotificationKind.PosConflicts,
    };

    /// <summary>Kinds that are always sent at once: decisions with deadlines, access to the account, people without an account.</summary>
    public static IReadOnlySet<NotificationKind> AlwaysImmediate { get; } = new HashSet<NotificationKind>
    {
        NotificationKind.Invitations, NotificationKind.Agreements, NotificationKind.ReviewRequests, NotificationKind.InfoRequests,
        NotificationKind.LeadOffers, NotificationKind.ApplicantMessages,
    };

    /// <summary>Every kind, in declaration order.</summary>
    public static IReadOnlyList<NotificationKind> All { get; } = Enum.GetValues<NotificationKind>();

    /// <summary>The templates of each kind (for the documentation and the tests).</summary>
    public static IReadOnlyDictionary<string, NotificationKind> Templates => ByTemplate;

    /// <summary>The kind of an email template; null for the digest email and for a template nobody classified (a test forbids that).</summary>
    public static NotificationKind? Of(string template) => ByTemplate.TryGetValue(template, out var kind) ? kind : null;

    /// <summary>Whether a person may choose other than <see cref="DeliveryMode.Immediate"/> for the kind.</summary>
    public static bool IsLocked(NotificationKind kind) => AlwaysImmediate.Contains(kind);

    /// <summary>The JSON name of a kind (camelCase, as the API writes it).</summary>
    public static string Name(NotificationKind kind) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(kind.ToString());

    /// <summary>The kind of a JSON name (exact camelCase); null when unknown.</summary>
    public static NotificationKind? Parse(string? name) => All.Cast<NotificationKind?>().FirstOrDefault(k => Name(k!.Value) == name);
}
