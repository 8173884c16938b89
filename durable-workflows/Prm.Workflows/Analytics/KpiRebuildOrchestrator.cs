using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Prm.Core.Analytics;
using Prm.Core.Common;
using Prm.Core.Identity;

namespace Prm.Workflows.Analytics;

/// <summary>
/// Where a KPI rebuild stands (the workflow's input, carried from step to step): the phase and its cursor, the page size and the totals
/// so far. A failed or terminated rebuild started again continues from here.
/// </summary>
public sealed record KpiRebuildProgress(KpiRebuildPhase Phase, string? Cursor, int PageSize, int Steps, int Applications, int Partners, int Records, int BucketsChecked, int BucketsCorrected, DateTimeOffset StartedAt)
{
    /// <summary>One rebuild at a time: a second start while it runs finds it.</summary>
    public const string InstanceId = "kpi-rebuild";

    /// <summary>The progress after one step's report.</summary>
    public KpiRebuildProgress After(KpiRebuildReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var next = this with
        {
            Steps = Steps + 1,
            Applications = Applications + (Phase == KpiRebuildPhase.Applications ? report.Records : 0),
            Partners = Partners + report.Partners,
            Records = Records + report.Records,
            BucketsChecked = BucketsChecked + report.BucketsChecked,
            BucketsCorrected = BucketsCorrected + report.BucketsCorrected,
            Cursor = report.NextCursor,
        };
        return report.NextCursor is null && Phase == KpiRebuildPhase.Applications ? next with { Phase = KpiRebuildPhase.Partners } : next;
    }

    /// <summary>True when the last page of partners is done.</summary>
    public bool Finished(KpiRebuildReport report) => Phase == KpiRebuildPhase.Partners && report.NextCursor is null;
}

/// <summary>Input of a rebuild step: the phase, its cursor and the page size.</summary>
public sealed record KpiRebuildStep(KpiRebuildPhase Phase, string? Cursor, int PageSize);

/// <summary>
/// The KPI rebuild (admins, POST /api/analytics/rebuild): one step activity per page (the applications, then partners), continue-as-new
/// after each with the progress as input, so the history stays small and a restarted host or a failed step resumes at the page it was on.
/// </summary>
public sealed class KpiRebuildOrchestrator : TaskOrchestrator<KpiRebuildProgress, KpiRebuildProgress>
{
    private static readonly TaskOptions Retry = ActivityRetry.Default;

    public override async Task<KpiRebuildProgress> RunAsync(TaskOrchestrationContext context, KpiRebuildProgress input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var report = await context.CallActivityAsync<KpiRebuildReport>(nameof(KpiRebuildStepActivity), new KpiRebuildStep(input.Phase, input.Cursor, input.PageSize), Retry);
        var next = input.After(report);
        if (input.Finished(report)) return next;
        context.ContinueAsNew(next);
        return next;
    }
}

/// <summary>Runs one page of the rebuild (idempotent: recomputing a page twice gives the same contributions and buckets).</summary>
public sealed class KpiRebuildStepActivity(KpiRebuild rebuild) : TaskActivity<KpiRebuildStep, KpiRebuildReport>
{
    public override Task<KpiRebuildReport> RunAsync(TaskActivityContext context, KpiRebuildStep input) => ExecuteAsync(input, CancellationToken.None);

    public Task<KpiRebuildReport> ExecuteAsync(KpiRebuildStep input, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(input);
        return rebuild.RunAsync(Caller.System, input.Phase, new PageRequest(input.PageSize, input.Cursor), ct);
    }
}

/// <summary>What GET and POST /api/analytics/rebuild answer: the workflow's status and its progress (the totals so far, or the final ones).</summary>
public sealed record KpiRebuildStatus(string InstanceId, string Status, string Phase, string? Cursor, int Steps, int Applications, int Partners, int Records, int BucketsChecked, int BucketsCorrected,
    DateTimeOffset StartedAt, DateTimeOffset? CompletedAt, string? Failure);

/// <summary>Starts, resumes and reads the rebuild workflow (one instance, <see cref="KpiRebuildProgress.InstanceId"/>).</summary>
public static class KpiRebuildWorkflow
{
    /// <summary>Partners per step.</summary>
    public const int DefaultPageSize = 50;

    /// <summary>
    /// Admins: a running rebuild is answered as it is; a failed or terminated one continues from the page it was on; otherwise (none, or
    /// completed) a new rebuild starts from the beginning.
    /// </summary>
    public static async Task<KpiRebuildStatus> StartAsync(DurableTaskClient client, Caller caller, int? pageSize, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(clock);
        if (!caller.IsAdmin) throw new ForbiddenException("Only admins rebuild the KPIs.");
        var size = pageSize ?? DefaultPageSize;
        if (size is < 1 or > PageRequest.MaxLimit) throw new ValidationFailedException("limit", $"limit must be 1-{PageRequest.MaxLimit}.");
        var existing = await client.GetInstanceAsync(KpiRebuildProgress.InstanceId, getInputsAndOutputs: true, ct);
        if (existing is { RuntimeStatus: OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Pending }) return StatusOf(existing);
        var input = existing is { RuntimeStatus: OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated } && existing.ReadInputAs<KpiRebuildProgress>() is { } resume
            ? resume with { PageSize = size }
            : new KpiRebuildProgress(KpiRebuildPhase.Applications, null, size, 0, 0, 0, 0, 0, 0, clock.GetUtcNow());
        if (existing is not null) await client.PurgeInstanceAsync(KpiRebuildProgress.InstanceId, cancellation: ct);
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(KpiRebuildOrchestrator), input, new StartOrchestrationOptions(KpiRebuildProgress.InstanceId), ct);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // Another admin's start won the race: answer with that one.
            if (await client.GetInstanceAsync(KpiRebuildProgress.InstanceId, getInputsAndOutputs: true, ct) is not { } raced) throw;
            return StatusOf(raced);
        }
        return new KpiRebuildStatus(KpiRebuildProgress.InstanceId, "pending", Camel(input.Phase), input.Cursor, input.Steps, input.Applications, input.Partners, input.Records,
            input.BucketsChecked, input.BucketsCorrected, input.StartedAt, null, null);
    }

    /// <summary>Admins: the rebuild's status (404 when none ran).</summary>
    public static async Task<KpiRebuildStatus> GetAsync(DurableTaskClient client, Caller caller, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(caller);
        if (!caller.IsAdmin) throw new ForbiddenException("Only admins read the KPI rebuild.");
        var existing = await client.GetInstanceAsync(KpiRebuildProgress.InstanceId, getInputsAndOutputs: true, ct) ?? throw new NotFoundException("KPI rebuild");
        return StatusOf(existing);
    }

    private static KpiRebuildStatus StatusOf(OrchestrationMetadata m)
    {
        var progress = (m.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? m.ReadOutputAs<KpiRebuildProgress>() : null) ?? m.ReadInputAs<KpiRebuildProgress>()
            ?? new KpiRebuildProgress(KpiRebuildPhase.Applications, null, DefaultPageSize, 0, 0, 0, 0, 0, 0, m.CreatedAt);
        var status = m.RuntimeStatus switch
        {
            OrchestrationRuntimeStatus.Completed => "completed",
            OrchestrationRuntimeStatus.Failed => "failed",
            OrchestrationRuntimeStatus.Terminated => "terminated",
            OrchestrationRuntimeStatus.Pending => "pending",
            _ => "running",
        };
        return new KpiRebuildStatus(m.InstanceId, status, Camel(progress.Phase), progress.Cursor, progress.Steps, progress.Applications, progress.Partners, progress.Records,
            progress.BucketsChecked, progress.BucketsCorrected, progress.StartedAt, m.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? m.LastUpdatedAt : null,
            m.FailureDetails?.ErrorMessage);
    }

    private static string Camel(KpiRebuildPhase phase) => Text.Camel(phase);
}
