namespace Prm.Core.Common;

/// <summary>
/// The optimistic-concurrency loop in one place: read the current version, decide, commit with its ETag; when someone else committed
/// in between (a stale ETag), read again and decide again. Every read-modify-write of the application goes through here.
/// </summary>
public static class ReadDecideCommit
{
    /// <summary>The attempts a user request makes before the conflict reaches the caller (412).</summary>
    public const int DefaultAttempts = 5;

    /// <summary>
    /// Runs <paramref name="attempt"/> (given its 1-based number) until it returns, retrying while <paramref name="retryWhen"/> says the
    /// failure was a lost race (by default a <see cref="PreconditionFailedException"/>), at most <paramref name="attempts"/> times in all,
    /// waiting <paramref name="pause"/>(number of the attempt that failed) between attempts (none by default). The last failure propagates.
    /// </summary>
    public static async Task<T> RunAsync<T>(Func<int, Task<T>> attempt, int attempts = DefaultAttempts, Func<int, TimeSpan>? pause = null,
        Func<Exception, bool>? retryWhen = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempts, 1);
        retryWhen ??= static ex => ex is PreconditionFailedException;
        for (var number = 1; ; number++)
        {
            try
            {
                return await attempt(number);
            }
            catch (Exception ex) when (number < attempts && retryWhen(ex))
            {
                if (pause?.Invoke(number) is { } wait && wait > TimeSpan.Zero) await Task.Delay(wait, ct);
            }
        }
    }

    /// <summary>The same for an attempt without a result.</summary>
    public static Task RunAsync(Func<int, Task> attempt, int attempts = DefaultAttempts, Func<int, TimeSpan>? pause = null,
        Func<Exception, bool>? retryWhen = null, CancellationToken ct = default) =>
        RunAsync(async number => { await attempt(number); return true; }, attempts, pause, retryWhen, ct);

    /// <summary>A random pause that grows with the attempt (1 ms to <paramref name="stepMilliseconds"/> × attempt, capped at 10 attempts), so contenders spread out.</summary>
    public static Func<int, TimeSpan> Jitter(int stepMilliseconds) =>
        number => TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 + stepMilliseconds * Math.Min(number, 10)));
}
