using Prm.Core.Approvals;
using Prm.Core.Common;
using Prm.Storage.Approvals;

namespace Prm.Storage.Tests;

public sealed class DecisionLinkStoreTests
{
    private static DecisionLink Link(string tokenHash, string recipient = "Casey Channel") =>
        new(tokenHash, "mdfRequest", "mdr_1", "stf_1", recipient, "casey@vendor.example", ["ChannelManager"], ["approve", "reject"], Make.T0.AddDays(7));

    [Fact]
    public async Task A_resent_insert_of_the_same_link_is_its_own_and_succeeds_and_another_link_under_the_key_is_a_conflict()
    {
        // The storage client resends an insert whose answer was lost (a network timeout under load); the resend meets the row the first
        // send wrote. Seen in a double run: an MDF request answered 500 with "The specified entity already exists".
        var s = await TestStores.CreateAsync();
        var store = new TableDecisionLinkStore(s.Tables);
        var hash = Guid.NewGuid().ToString("N");
        await store.CreateAsync(Link(hash), CancellationToken.None);

        await store.CreateAsync(Link(hash), CancellationToken.None); // the resend

        (await store.GetAsync(hash, CancellationToken.None))!.Value.Should().BeEquivalentTo(Link(hash));
        var other = async () => await store.CreateAsync(Link(hash, "Someone Else"), CancellationToken.None);
        await other.Should().ThrowAsync<ConflictException>();
        (await store.GetAsync(hash, CancellationToken.None))!.Value.RecipientName.Should().Be("Casey Channel", "the first link stays");
    }
}
