using Prm.Core.Analytics;
using Prm.Workflows.Analytics;

namespace Prm.Workflows.Tests;

public sealed class KpiRebuildProgressTests
{
    private static readonly KpiRebuildProgress Start = new(KpiRebuildPhase.Applications, null, 50, 0, 0, 0, 0, 0, 0, DateTimeOffset.UnixEpoch);

    [Fact]
    public void The_rebuild_goes_through_the_applications_page_by_page_then_the_partners_and_adds_up_the_steps()
    {
        var midApplications = Start.After(new KpiRebuildReport(0, 50, 0, 0, "a2"));
        (midApplications.Phase, midApplications.Cursor, midApplications.Applications, midApplications.Steps).Should().Be((KpiRebuildPhase.Applications, "a2", 50, 1));
        midApplications.Finished(new KpiRebuildReport(0, 50, 0, 0, "a2")).Should().BeFalse();

        var lastApplications = new KpiRebuildReport(0, 7, 12, 1, null);
        Start.Finished(lastApplications).Should().BeFalse("the partners come after the applications");
        var partners = midApplications.After(lastApplications);
        (partners.Phase, partners.Cursor, partners.Applications, partners.BucketsChecked, partners.BucketsCorrected).Should().Be((KpiRebuildPhase.Partners, null, 57, 12, 1));

        var page = partners.After(new KpiRebuildReport(50, 400, 1_000, 0, "p2"));
        (page.Phase, page.Cursor, page.Partners, page.Records, page.Applications).Should().Be((KpiRebuildPhase.Partners, "p2", 50, 457, 57));
        var last = new KpiRebuildReport(3, 10, 30, 2, null);
        page.Finished(last).Should().BeTrue();
        var done = page.After(last);
        (done.Steps, done.Partners, done.Records, done.BucketsChecked, done.BucketsCorrected, done.Cursor).Should().Be((4, 53, 467, 1_042, 3, null));
    }
}
