using Microsoft.DurableTask;
using Prm.Core.Common;
using Prm.Core.Tiers;

namespace Prm.Workflows.Tiers;

/// <summary>Input of the nightly evaluation: how many partners per batch activity and how many batches run side by side.</summary>
public sealed record TierNightly(int BatchSize = 100, int Parallel = 4)
{
    /// <summary>One instance per night (a second start the same day finds it).</summary>
    public static string InstanceId(DateTimeOffset at) => "tier-nightly-" + at.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A page of Active partner ids (input of the page activity: the cursor and the size).</summary>
public sealed record TierNightlyPage(string? Cursor, int Size);

/// <summary>What the nightly evaluation did.</summary>
public sealed record TierNightlySummary(int Partners, int Evaluated, int Changed, int Failed, int Batches);

/// <summary>
/// The nightly evaluation of every Active partner, started by a timer function: pages of partner ids from the partner list, each page
/// one batch activity (evaluated side by side inside it), at most <see cref="TierNightly.Parallel"/> batches in flight (fan-out/fan-in).
/// </summary>
public sealed class TierNightlyOrchestrator : TaskOrchestrator<TierNightly, TierNightlySummary>
{
    private static readonly TaskOptions Retry = ActivityRetry.Default;

    public override async Task<TierNightlySummary> RunAsync(TaskOrchestrationContext context, TierNightly input)
    {
        var running = new List<Task<NightlyBatchResult>>();
        var results = new List<NightlyBatchResult>();
        int partners = 0, batches = 0;
        string? cursor = null;
        do
        {
            var page = await context.CallActivityAsync<Prm.Core.Common.Page<string>>(nameof(TierNightlyPageActivity), new TierNightlyPage(cursor, input.BatchSize), Retry);
            cursor = page.NextCursor;
            if (page.Items.Count == 0) continue;
            partners += page.Items.Count;
            batches++;
            running.Add(context.CallActivityAsync<NightlyBatchResult>(nameof(TierEvaluateBatchActivity), page.Items, Retry));
            if (running.Count >= Math.Max(1, input.Parallel))
            {
                var done = await Task.WhenAny(running);
                running.Remove(done);
                results.Add(await done);
            }
        } while (cursor is not null);
        results.AddRange(await Task.WhenAll(running));
        return new TierNightlySummary(partners, results.Sum(r => r.Evaluated), results.Sum(r => r.Changed), results.Sum(r => r.Failed), batches);
    }
}

/// <summary>Reads a page of Active partner ids.</summary>
public sealed class TierNightlyPageActivity(INightlyEvaluation nightly) : TaskActivity<TierNightlyPage, Prm.Core.Common.Page<string>>
{
    public override Task<Prm.Core.Common.Page<string>> RunAsync(TaskActivityContext context, TierNightlyPage input) => ExecuteAsync(input, CancellationToken.None);

    public Task<Prm.Core.Common.Page<string>> ExecuteAsync(TierNightlyPage input, CancellationToken ct) => nightly.PartnerPageAsync(input.Cursor, input.Size, ct);
}

/// <summary>Evaluates a batch of partners.</summary>
public sealed class TierEvaluateBatchActivity(INightlyEvaluation nightly) : TaskActivity<IReadOnlyList<string>, NightlyBatchResult>
{
    public override Task<NightlyBatchResult> RunAsync(TaskActivityContext context, IReadOnlyList<string> input) => ExecuteAsync(input, CancellationToken.None);

    public Task<NightlyBatchResult> ExecuteAsync(IReadOnlyList<string> input, CancellationToken ct) => nightly.EvaluateBatchAsync(input, ct);
}
