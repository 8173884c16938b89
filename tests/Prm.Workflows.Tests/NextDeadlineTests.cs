using System.Text.Json;
using Prm.Core.Deals;
using Prm.Workflows.Deals;
using Prm.Workflows.Operations;

namespace Prm.Workflows.Tests;

/// <summary>The next timer the operations API shows when the backend keeps the history to itself: the generation's earliest deadline still ahead.</summary>
public sealed class NextDeadlineTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_protected_deal_waits_for_its_first_expiry_reminder_then_the_second_then_the_expiry()
    {
        var end = Now.AddDays(30);
        var input = JsonSerializer.Serialize(DealWorkflow.For("deal_1", new DealWorkflowState(nameof(DealStatus.Approved), Now.AddDays(-1), null, null, end), TimeSpan.FromDays(14), TimeSpan.FromDays(3)));
        WorkflowOperations.NextDeadline(input, Now).Should().Be(end.AddDays(-14));
        WorkflowOperations.NextDeadline(input, end.AddDays(-10)).Should().Be(end.AddDays(-3));
        WorkflowOperations.NextDeadline(input, end.AddDays(-1)).Should().Be(end);
        WorkflowOperations.NextDeadline(input, end.AddDays(1)).Should().BeNull("after the last deadline the generation only waits for an event");
    }

    [Fact]
    public void A_deal_in_review_waits_for_the_reminder_then_the_escalation()
    {
        var input = JsonSerializer.Serialize(DealWorkflow.For("deal_1", new DealWorkflowState(nameof(DealStatus.UnderReview), Now, Now.AddHours(24), Now.AddHours(48), null), TimeSpan.FromDays(14), TimeSpan.FromDays(3)));
        WorkflowOperations.NextDeadline(input, Now).Should().Be(Now.AddHours(24));
        WorkflowOperations.NextDeadline(input, Now.AddHours(30)).Should().Be(Now.AddHours(48));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("\"just a string\"")]
    public void No_input_or_no_deadline_is_no_next_timer(string? input) => WorkflowOperations.NextDeadline(input, Now).Should().BeNull();
}
