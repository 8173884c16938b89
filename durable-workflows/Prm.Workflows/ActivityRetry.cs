using Microsoft.DurableTask;

namespace Prm.Workflows;

/// <summary>The one retry policy of activities: 5 attempts, 5 s first pause, doubling, at most 5 minutes apart (activities are idempotent).</summary>
public static class ActivityRetry
{
    public static readonly TaskOptions Default = TaskOptions.FromRetryPolicy(new RetryPolicy(5, TimeSpan.FromSeconds(5), 2, TimeSpan.FromMinutes(5)));
}
