using Prm.Core.Common;
using Prm.Core.Content;

namespace Prm.Core.Tests.Content;

public class AssetRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private const string KnownPartner = "ptn_0123456789abcdef0123456789abcdef";

    private static Asset Blank() => new()
    {
        Id = AssetIds.New(Now),
        Title = "",
        Type = AssetType.Collateral,
        Locale = "",
        Visibility = new VisibilityRule(),
        Status = AssetStatus.Draft,
        OwnerId = "usr_1",
        OwnerName = "Ada",
        OwnerEmail = "ada@vendor.example",
        CreatedAt = Now,
        UpdatedAt = Now,
    };

    private static async Task<IReadOnlyDictionary<string, string[]>> ErrorsAsync(AssetInput input)
    {
        var errors = new Dictionary<string, string[]>();
        var asset = AssetRules.Apply(Blank(), input, errors);
        try
        {
            await AssetRules.ValidateAsync(asset, errors, id => Task.FromResult(id == KnownPartner));
            return new Dictionary<string, string[]>();
        }
        catch (ValidationFailedException ex)
        {
            return ex.Errors;
        }
    }

    private static AssetInput Valid(string? publishAt = null, string? expireAt = null, VisibilityInput? visibility = null, string? type = "datasheet") =>
        new("Datasheet", null, type, ["edge"], ["Pricing"], "en-US", null, publishAt, expireAt, visibility ?? new VisibilityInput(true, null, null, null, null, null, null));

    [Fact]
    public async Task A_valid_asset_passes() => (await ErrorsAsync(Valid())).Should().BeEmpty();

    [Theory]
    [InlineData("2027-02-01T00:00:00Z", "2027-01-01T00:00:00Z", "publishAt")]
    [InlineData("2027-01-01T00:00:00Z", "2027-01-01T00:00:00Z", "publishAt")]
    [InlineData("tomorrow", null, "publishAt")]
    [InlineData(null, "2190-01-01T00:00:00Z", "expireAt")]
    public async Task Dates_out_of_order_or_range_name_the_field(string? publishAt, string? expireAt, string field) =>
        (await ErrorsAsync(Valid(publishAt, expireAt))).Keys.Should().Contain(field);

    [Fact]
    public async Task An_unknown_tier_names_its_index() =>
        (await ErrorsAsync(Valid(visibility: new VisibilityInput(null, ["gold", "diamond"], null, null, null, null, null)))).Keys.Should().Equal("visibility.tiers[1]");

    [Fact]
    public async Task An_unknown_partner_names_its_index()
    {
        var errors = await ErrorsAsync(Valid(visibility: new VisibilityInput(true, null, null, null, null, [KnownPartner, "ptn_ffffffffffffffffffffffffffffffff"], null)));
        errors.Keys.Should().Equal("visibility.deniedPartners[1]");
    }

    [Fact]
    public async Task A_rule_that_admits_nobody_is_refused() =>
        (await ErrorsAsync(Valid(visibility: new VisibilityInput(false, null, null, null, null, null, null)))).Keys.Should().Equal("visibility");

    [Fact]
    public async Task An_unknown_type_names_type() => (await ErrorsAsync(Valid(type: "brochure"))).Keys.Should().Equal("type");
}
