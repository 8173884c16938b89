namespace Prm.Core.Deals;

/// <summary>
/// The end customer of a deal registration in comparable form; built by <see cref="CustomerNormalizer.Normalize"/>.
/// At least one of <see cref="Domain"/> and <see cref="NameKey"/> is set.
/// </summary>
/// <param name="Domain">Registrable domain (e.g. acme.co.uk), or null when none was usable.</param>
/// <param name="NameKey">Company name key (see <see cref="CustomerNormalizer.CompanyNameKey"/>), or null.</param>
/// <param name="Country">ISO 3166-1 alpha-2 code, or null when unknown.</param>
/// <param name="ProductLineIds">Product lines of the registration; may be empty.</param>
/// <param name="BlockingKeys">Keys under which the customer is filed for candidate lookup (see <see cref="CustomerNormalizer.BlockingKeys"/>).</param>
public sealed record NormalizedCustomer(
    string? Domain,
    string? NameKey,
    string? Country,
    IReadOnlyList<string> ProductLineIds,
    IReadOnlyList<string> BlockingKeys)
{
    /// <summary>
    /// The partner registering this customer; lets the engine tell a partner's own earlier registrations from other
    /// partners'. Null when unknown: every partner-owned candidate then counts as another partner's.
    /// </summary>
    public string? PartnerId { get; init; }
}
