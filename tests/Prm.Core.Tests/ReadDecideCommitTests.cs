using Prm.Core.Common;

namespace Prm.Core.Tests;

public class ReadDecideCommitTests
{
    [Fact]
    public async Task A_lost_race_is_read_and_decided_again_until_it_commits()
    {
        var numbers = new List<int>();
        var result = await ReadDecideCommit.RunAsync(number =>
        {
            numbers.Add(number);
            return number < 3 ? throw new PreconditionFailedException("stale") : Task.FromResult("committed");
        });

        result.Should().Be("committed");
        numbers.Should().Equal(1, 2, 3);
    }

    [Fact]
    public async Task After_the_last_attempt_the_lost_race_reaches_the_caller()
    {
        var calls = 0;
        var act = () => ReadDecideCommit.RunAsync(_ => { calls++; return Task.FromException<int>(new PreconditionFailedException("stale")); }, attempts: 4);

        await act.Should().ThrowAsync<PreconditionFailedException>();
        calls.Should().Be(4);
    }

    [Fact]
    public async Task Other_failures_are_not_retried()
    {
        var calls = 0;
        var act = () => ReadDecideCommit.RunAsync(_ => { calls++; return Task.FromException<int>(new ConflictException("taken")); });

        await act.Should().ThrowAsync<ConflictException>();
        calls.Should().Be(1);
    }

    [Fact]
    public async Task The_caller_says_what_a_lost_race_is_and_how_long_to_pause()
    {
        var pauses = new List<int>();
        var calls = 0;
        await ReadDecideCommit.RunAsync(_ =>
        {
            calls++;
            if (calls < 3) throw new InvalidOperationException("409");
            return Task.CompletedTask;
        }, attempts: 5, pause: n => { pauses.Add(n); return TimeSpan.Zero; }, retryWhen: ex => ex is InvalidOperationException);

        calls.Should().Be(3);
        pauses.Should().Equal(1, 2);
    }
}
