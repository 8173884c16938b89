using Prm.Core.Common;

namespace Prm.Core.Tests;

public class PagingTests
{
    [Fact]
    public void From_defaults_to_50_without_a_cursor()
    {
        var page = PageRequest.From(null, null);

        page.Limit.Should().Be(50);
        page.Cursor.Should().BeNull();
    }

    [Fact]
    public void From_treats_empty_strings_as_absent()
    {
        var page = PageRequest.From("", "");

        page.Limit.Should().Be(PageRequest.DefaultLimit);
        page.Cursor.Should().BeNull();
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData("25", 25)]
    [InlineData("200", 200)]
    public void From_accepts_limits_from_1_to_200(string limit, int expected) =>
        PageRequest.From(limit, null).Limit.Should().Be(expected);

    [Fact]
    public void From_passes_a_cursor_the_API_issued_through()
    {
        var cursor = PageCursor.Encode("1!8!cGFydG5lcg--|1!12!cHRuXzEyMw--");
        PageRequest.From("10", cursor).Cursor.Should().Be(cursor);
        PageCursor.Decode(cursor).Should().Be("1!8!cGFydG5lcg--|1!12!cHRuXzEyMw--");
    }

    [Theory]
    [InlineData("opaque-cursor")]
    [InlineData("garbage")]
    [InlineData("AAAA")]
    [InlineData("bm90IGEgY3Vyc29y")]
    [InlineData("=")]
    [InlineData("%00")]
    public void From_refuses_a_cursor_the_API_did_not_issue_naming_cursor(string cursor) =>
        FluentActions.Invoking(() => PageRequest.From("10", cursor)).Should().Throw<ValidationFailedException>().Which.Errors.Keys.Should().Equal("cursor");

    [Fact]
    public void An_edited_cursor_is_refused()
    {
        var cursor = PageCursor.Encode("next partition|next row");
        var edited = cursor[..^2] + (cursor[^2] == 'A' ? 'B' : 'A') + cursor[^1];
        PageCursor.Decode(edited).Should().BeNull();
    }

    [Theory]
    [InlineData("0")]
    [InlineData("201")]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("99999999999")]
    public void From_rejects_other_limits_naming_the_limit_field(string limit)
    {
        var act = () => PageRequest.From(limit, null);

        var error = act.Should().Throw<ValidationFailedException>().Which;
        error.Errors.Should().ContainKey("limit");
        error.Errors["limit"].Single().Should().Contain("200");
        error.Unprocessable.Should().BeFalse();
    }

    [Fact]
    public void Page_Map_keeps_the_next_cursor()
    {
        var mapped = new Page<int>([1, 2], "next").Map(i => i * 10);

        mapped.Items.Should().Equal(10, 20);
        mapped.NextCursor.Should().Be("next");
    }
}
