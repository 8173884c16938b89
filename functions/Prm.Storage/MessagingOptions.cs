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
