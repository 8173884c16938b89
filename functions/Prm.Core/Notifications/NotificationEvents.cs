using Prm.Core.Outbox;

namespace Prm.Core.Notifications;

/// <summary>The integration events of notification preferences and digests.</summary>
public static class NotificationEvents
{
    /// <summary>A person saved their notification preferences or time zone.</summary>
    [EventPayload(typeof(PreferencesData), Summary = "A person changed their notification preferences or time zone.")]
    public const string PreferencesChanged = "notification.preferencesChanged";

    /// <summary>A person turned a kind off through the one-click unsubscribe link of an email.</summary>
    [EventPayload(typeof(UnsubscribedData), Summary = "A person turned one kind of notification off through an email's unsubscribe link.")]
    public const string Unsubscribed = "notification.unsubscribed";

    /// <summary>An email was kept for a person's digest instead of being sent; starts the person's digest workflow when none runs.</summary>
    [EventPayload(typeof(DigestItemData), Summary = "An email was kept for a person's daily or weekly digest instead of being sent.")]
    public const string DigestItemRecorded = "notification.digestItemRecorded";

    /// <summary>Data of notification.preferencesChanged: the person's choices after the change (kinds left out take the program default).</summary>
    public sealed record PreferencesData(string UserId, string? TimeZone, IReadOnlyDictionary<string, string> Preferences);

    /// <summary>Data of notification.unsubscribed.</summary>
    public sealed record UnsubscribedData(string UserId, string Kind);

    /// <summary>Data of notification.digestItemRecorded: whose digest (daily or weekly), the kind and template of the email kept.</summary>
    public sealed record DigestItemData(string UserId, string Cadence, string Kind, string Template, string MessageId);
}
