using Prm.Core.Audit;

namespace Prm.Core.Tests;

public class DiffTests
{
    private static Dictionary<string, string?> Snap(params (string Key, string? Value)[] fields) =>
        fields.ToDictionary(f => f.Key, f => f.Value);

    [Fact]
    public void Create_lists_every_field_with_a_value_and_no_before()
    {
        var changes = Diff.Between(null, Snap(("name", "Acme"), ("city", null), ("domain", "acme.com")));

        changes.Should().Equal(
            new FieldChange("domain", null, "acme.com"),
            new FieldChange("name", null, "Acme"));
    }

    [Fact]
    public void Delete_lists_every_field_with_a_value_and_no_after()
    {
        var changes = Diff.Between(Snap(("email", "a@b.com"), ("joinedAt", null)), null);

        changes.Should().Equal(new FieldChange("email", "a@b.com", null));
    }

    [Fact]
    public void Unchanged_fields_are_omitted()
    {
        var before = Snap(("name", "Acme"), ("tier", "silver"), ("city", "Berlin"));
        var after = Snap(("name", "Acme"), ("tier", "gold"), ("city", "Berlin"));

        Diff.Between(before, after).Should().Equal(new FieldChange("tier", "silver", "gold"));
    }

    [Fact]
    public void Identical_snapshots_give_no_changes() =>
        Diff.Between(Snap(("name", "Acme")), Snap(("name", "Acme"))).Should().BeEmpty();

    [Fact]
    public void Comparison_is_case_sensitive() =>
        Diff.Between(Snap(("name", "acme")), Snap(("name", "Acme"))).Should().Equal(new FieldChange("name", "acme", "Acme"));

    [Fact]
    public void Set_to_null_and_from_null_are_changes()
    {
        var changes = Diff.Between(Snap(("phone", "123"), ("city", null)), Snap(("phone", null), ("city", "Berlin")));

        changes.Should().Equal(new FieldChange("city", null, "Berlin"), new FieldChange("phone", "123", null));
    }

    [Fact]
    public void Fields_present_on_one_side_only_are_included()
    {
        var changes = Diff.Between(Snap(("old", "x")), Snap(("new", "y")));

        changes.Should().Equal(new FieldChange("new", null, "y"), new FieldChange("old", "x", null));
    }

    [Fact]
    public void Changes_are_ordered_by_field_name_ordinally()
    {
        var changes = Diff.Between(null, Snap(("zeta", "1"), ("Beta", "2"), ("alpha", "3"), ("channelManagerId", "4")));

        changes.Select(c => c.Field).Should().Equal("Beta", "alpha", "channelManagerId", "zeta");
    }
}
