using Prm.Core.Common;
using Prm.Core.Mdf;

namespace Prm.Core.Tests.Mdf;

/// <summary>Which amount counts for the second approval: the approved one (or, while pending, the one approving in full would commit).</summary>
public class SecondApprovalTests
{
    private static readonly MdfSettings Rules = new();

    private static FundRequest Request(decimal requested, FundRequestStatus status = FundRequestStatus.Submitted, decimal? approved = null) => new()
    {
        Id = "mdr_1", BudgetId = "mdb_1", PartnerId = Make.PartnerId(), PartnerName = "Acme", Period = "2026", Status = status, ActivityType = MdfActivityType.Webinar,
        Title = "Webinar", Description = "Two sessions", StartDate = new DateOnly(2026, 4, 10), EndDate = new DateOnly(2026, 4, 12),
        RequestedAmount = new Money(requested, "EUR"), RequesterId = "usr_rep", RequesterName = "Rita", RequesterEmail = "rita@acme.com", SubmittedAt = Make.Now,
        ApprovedAmount = approved is { } a ? new Money(a, "EUR") : null,
    };

    [Fact]
    public void The_threshold_itself_needs_no_second_approval_one_cent_more_does()
    {
        Rules.NeedsSecondApproval(new Money(10_000m, "EUR")).Should().BeFalse();
        Rules.NeedsSecondApproval(new Money(10_000.01m, "EUR")).Should().BeTrue();
    }

    [Fact]
    public void A_pending_request_above_the_threshold_would_need_it()
    {
        FundRequestDto.From(Request(12_000m), Rules).NeedsSecondApproval.Should().BeTrue();
        FundRequestDto.From(Request(9_000m), Rules).NeedsSecondApproval.Should().BeFalse();
    }

    [Fact]
    public void Approved_lower_than_the_threshold_it_needed_none()
    {
        FundRequestDto.From(Request(12_000m, FundRequestStatus.Approved, approved: 8_000m), Rules).NeedsSecondApproval.Should().BeFalse();
        FundRequestDto.From(Request(12_000m, FundRequestStatus.Approved, approved: 11_000m), Rules).NeedsSecondApproval.Should().BeTrue();
    }

    [Fact]
    public void Waiting_for_the_second_admin_says_so_whatever_the_rules() =>
        FundRequestDto.From(Request(5_000m, FundRequestStatus.AwaitingSecondApproval)).NeedsSecondApproval.Should().BeTrue();
}
