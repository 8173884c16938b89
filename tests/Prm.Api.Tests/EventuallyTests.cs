using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>The wait the end-to-end tests use must fail when its condition never holds, with what it last saw.</summary>
public sealed class EventuallyTests
{
    [Fact]
    public async Task A_wait_that_times_out_fails_with_the_last_value_read()
    {
        var reads = 0;
        var act = () => Responses.EventuallyAsync(() => Task.FromResult(++reads), n => n < 0, TimeSpan.FromMilliseconds(300));

        var failure = await act.Should().ThrowAsync<TimeoutException>();
        failure.Which.Message.Should().Contain("Last value read: " + reads);
        reads.Should().BeGreaterThan(1, "it kept reading until the deadline");
    }

    [Fact]
    public async Task A_condition_that_holds_returns_the_value_that_made_it_hold()
    {
        var reads = 0;
        (await Responses.EventuallyAsync(() => Task.FromResult(++reads), n => n == 3, TimeSpan.FromSeconds(30))).Should().Be(3);
    }
}
