using Prm.Core.Configuration;

namespace Prm.Storage;

/// <summary>Integration events (section "ServiceBus"). Empty namespace = events go to the local sink.</summary>
public sealed class ServiceBusOptions
{
    public const string SectionName = "ServiceBus";

    /// <summary>Fully qualified namespace, e.g. prm-sb.servicebus.windows.net; empty disables Service Bus.</summary>
    public string? FullyQualifiedNamespace { get; set; }

    /// <summary>Topic that receives every PrmFunctions event.</summary>
    public string TopicName { get; set; } = "prm-events";
}

/// <summary>Outgoing email (section "SendGrid"). Empty key = email goes to the local mail outbox.</summary>
public sealed class SendGridOptions
{
    public const string SectionName = "SendGrid";

    /// <summary>SendGrid API key; in Azure a Key Vault reference.</summary>
    [SecretSetting]
    public string? ApiKey { get; set; }

    /// <summary>
    /// True when the app received the Key Vault reference itself instead of the secret: App Service passes the literal
    /// <c>@Microsoft.KeyVault(...)</c> on when it cannot resolve it (no such secret, an empty one, or a role not yet propagated).
    /// </summary>
    public bool KeyIsUnresolvedReference => ApiKey?.TrimStart().StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase) ?? false;

    /// <summary>What an unresolved key means, for the log, the health check and every failed delivery.</summary>
    public const string UnresolvedReferenceProblem =
        "SendGrid__ApiKey is an unresolved Key Vault reference: the secret SendGrid-ApiKey is missing or empty in the vault, or the app's identity cannot read it yet (role assignments take minutes to propagate). Set the secret, then restart the app.";

    /// <summary>Sender address.</summary>
    public string FromEmail { get; set; } = "partners@prm.example";

    /// <summary>Sender display name.</summary>
    public string FromName { get; set; } = "Partner Program";

    /// <summary>Override of the SendGrid API host (tests point it at a local fake).</summary>
    [LocalDevelopmentOnly]
    public string? Host { get; set; }
}

/// <summary>Delivery of events and email (section "Delivery").</summary>
public sealed class DeliveryOptions
{
    public const string SectionName = "Delivery";

    /// <summary>
    /// True runs the app outside Development without Service Bus or SendGrid: events and email go to the in-memory development sinks
    /// and leave the app nowhere (logged at start). False (the default) refuses to start without them outside Development.
    /// </summary>
    public bool Disabled { get; set; }
}
