using Prm.Core.Common;
using Prm.Core.Portal;

namespace Prm.Core.Tests.Portal;

/// <summary>The inbox order as a table: items given in one order come back by deadline, then money at stake, then kind and link.</summary>
public class HomeInboxTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    /// <summary>"name:deadline hours from T0 or -:amount or -[:kind]": a compact item for the table.</summary>
    private static InboxItem Item(string spec)
    {
        var parts = spec.Split(':');
        DateTimeOffset? deadline = parts[1] == "-" ? null : T0.AddHours(double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        Money? amount = parts[2] == "-" ? null : new Money(decimal.Parse(parts[2].TrimEnd('$'), System.Globalization.CultureInfo.InvariantCulture), parts[2].EndsWith('$') ? "USD" : "EUR");
        var kind = parts.Length > 3 ? parts[3] : InboxKinds.DealReturned;
        return new InboxItem(kind, parts[0], deadline, amount, "/api/x/" + parts[0]);
    }

    public static TheoryData<string, string[], string[]> Table() => new()
    {
        // case, items as given ("name:deadline h:amount[:kind]"), expected names in order
        { "earlier deadline first", ["late:48:-", "soon:2:-", "mid:24:-"], ["soon", "mid", "late"] },
        { "deadline beats money", ["big:48:1000000", "small:1:10"], ["small", "big"] },
        { "same deadline: more money first", ["a:24:100", "b:24:5000", "c:24:250"], ["b", "c", "a"] },
        { "no deadline after every dated item", ["open:-:999999", "dated:720:1"], ["dated", "open"] },
        { "no deadline: by money", ["x:-:10", "y:-:300", "z:-:20"], ["y", "z", "x"] },
        { "amount before no amount at the same deadline", ["none:5:-", "some:5:1"], ["some", "none"] },
        { "no deadline, no amount last", ["bare:-:-", "money:-:1", "dated:1:-"], ["dated", "money", "bare"] },
        { "amounts compare as numbers whatever the currency", ["eur:3:900", "usd:3:1000$"], ["usd", "eur"] },
        { "past deadlines stay first (overdue)", ["future:10:5", "overdue:-5:1"], ["overdue", "future"] },
        { "ties broken by kind, then link", ["b:3:10:leadOffer", "a:3:10:leadOffer", "c:3:10:dealReturned"], ["c", "a", "b"] },
        { "one item", ["only:1:1"], ["only"] },
        { "empty", [], [] },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void The_inbox_is_ordered_by_deadline_then_money_at_stake(string name, string[] given, string[] expected)
    {
        var ordered = HomeInbox.Order(given.Select(Item));
        Assert.True(expected.SequenceEqual(ordered.Select(i => i.Title)), $"{name}: got {string.Join(", ", ordered.Select(i => i.Title))}");
    }

    [Fact]
    public void The_order_does_not_depend_on_the_order_items_arrive_in()
    {
        var items = new[] { "a:1:5", "b:1:5:leadOffer", "c:-:7", "d:2:-", "e:1:9", "f:-:-" }.Select(Item).ToList();
        var first = HomeInbox.Order(items).Select(i => i.Title).ToList();
        items.Reverse();
        Assert.Equal(first, HomeInbox.Order(items).Select(i => i.Title).ToList());
        Assert.Equal(["e", "a", "b", "d", "c", "f"], first);
    }
}
