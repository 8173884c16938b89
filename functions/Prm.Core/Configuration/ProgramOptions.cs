namespace Prm.Core.Configuration;

/// <summary>Program-wide settings of the PRM (section "Prm").</summary>
public sealed class ProgramOptions
{
    public const string SectionName = "Prm";

    /// <summary>Public base URL of the partner portal SPA (locally the reference portal the local host serves); emailed links point here.</summary>
    public string PortalBaseUrl { get; set; } = "http://localhost:7071/portal";

    /// <summary>Public base URL of this API (used in links sent by email).</summary>
    public string ApiBaseUrl { get; set; } = "http://localhost:7071/api";

    /// <summary>The currency budgets and thresholds are expressed in when a request names none.</summary>
    public string ProgramCurrency { get; set; } = "EUR";

    /// <summary>How long a resolved caller membership is cached, in seconds (0 disables the cache).</summary>
    public int MembershipCacheSeconds { get; set; } = 30;

    /// <summary>How long program settings are cached per instance, in seconds (0 disables the cache; a save applies at once on the instance that saved).</summary>
    public int SettingsCacheSeconds { get; set; } = 30;
}
