using Prm.Core.Configuration;

namespace Prm.Storage;

/// <summary>Where the PRM data lives (section "Storage"). In Azure the service URIs and a managed identity are used; locally a connection string to Azurite.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary>Connection string (Azurite locally). When set it wins over the service URIs.</summary>
    [LocalDevelopmentOnly]
    public string? ConnectionString { get; set; }

    /// <summary>Table service endpoint, e.g. https://account.table.core.windows.net.</summary>
    public string? TableServiceUri { get; set; }

    /// <summary>Blob service endpoint, e.g. https://account.blob.core.windows.net.</summary>
    public string? BlobServiceUri { get; set; }

    /// <summary>Queue service endpoint, e.g. https://account.queue.core.windows.net (the outbox queue; the same account as AzureWebJobsStorage).</summary>
    public string? QueueServiceUri { get; set; }

    /// <summary>Client id of the user-assigned managed identity; empty uses the default credential chain.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>Prefix for every table name, so several environments can share an account.</summary>
    public string TablePrefix { get; set; } = "prm";
}
