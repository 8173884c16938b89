using Azure.Data.Tables;
using Prm.Core.Common;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Storage.Tests;

/// <summary>
/// The storage client resends a transaction whose answer was lost (its network timeout under load). When the first send went through,
/// the resend is refused by the rows it wrote: 409 for an insert, 412 for an If-Match write. The commit must answer what happened (it
/// committed), not a conflict, while a refusal of a change that did not commit stays a refusal. Sending the same transaction twice is
/// exactly what the storage service sees in that case.
/// </summary>
public sealed class PartitionWriterResendTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static ChangeSet Audited(string subjectId) => new([Make.Audit("thing.changed", subjectId, Make.T0)], []);

    [Fact]
    public async Task A_resent_insert_that_had_committed_answers_its_rows_etags_and_another_change_inserting_the_row_is_a_conflict()
    {
        var s = await TestStores.CreateAsync();
        var partition = Ids.New("ptn");
        var insert = new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, "state") { ["Value"] = 1 });
        var changes = Audited(partition);

        var first = await s.Writer.CommitAsync(s.Tables.Partners, partition, [insert], changes, None);
        var resent = await s.Writer.CommitAsync(s.Tables.Partners, partition, [insert], changes, None);

        var stored = (await s.Tables.Partners.GetEntityAsync<TableEntity>(partition, "state")).Value;
        resent.Should().Equal(stored.ETag.ToString());
        first.Should().Equal(resent);
        var another = () => s.Writer.CommitAsync(s.Tables.Partners, partition, [insert], Audited(partition), None);
        await another.Should().ThrowAsync<ConflictException>("a change of its own (a new timeline entry) did not commit");
    }

    [Fact]
    public async Task A_resent_if_match_replace_that_had_committed_succeeds_and_a_stale_one_of_another_change_is_refused()
    {
        var s = await TestStores.CreateAsync();
        var partition = Ids.New("ptn");
        var etag = (await s.Writer.CommitAsync(s.Tables.Partners, partition,
            [new(TableTransactionActionType.Add, new TableEntity(partition, "state") { ["Value"] = 1 })], Audited(partition), None))[0];
        var replace = new TableTransactionAction(TableTransactionActionType.UpdateReplace, new TableEntity(partition, "state") { ["Value"] = 2 }, new Azure.ETag(etag));
        var changes = Audited(partition);

        var first = await s.Writer.CommitAsync(s.Tables.Partners, partition, [replace], changes, None);
        var resent = await s.Writer.CommitAsync(s.Tables.Partners, partition, [replace], changes, None);

        resent.Should().Equal(first);
        var stale = () => s.Writer.CommitAsync(s.Tables.Partners, partition, [replace], Audited(partition), None);
        await stale.Should().ThrowAsync<PreconditionFailedException>();
        (await s.Tables.Partners.GetEntityAsync<TableEntity>(partition, "state")).Value.GetInt32("Value").Should().Be(2);
    }

    [Fact]
    public async Task Without_timeline_rows_the_changes_undelivered_outbox_message_says_it_committed()
    {
        var s = await TestStores.CreateAsync();
        var partition = Ids.New("ptn");
        var insert = new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, "state") { ["Value"] = 1 });
        var changes = new ChangeSet([], [OutboxMessage.ForEvent(IntegrationEvent.Create(Ids.New("evt"), "thing.changed", Make.T0, partition, partition, "corr", new { Value = 1 }))]);

        var first = await s.Writer.CommitAsync(s.Tables.Partners, partition, [insert], changes, None);
        var resent = await s.Writer.CommitAsync(s.Tables.Partners, partition, [insert], changes, None);

        resent.Should().Equal(first);
        var unmarked = () => s.Writer.CommitAsync(s.Tables.Partners, partition, [insert], new ChangeSet([], []), None);
        await unmarked.Should().ThrowAsync<ConflictException>("with nothing of its own to look for, a refusal stands");
    }

    [Fact]
    public async Task A_resent_commit_whose_row_was_changed_since_by_another_writer_answers_no_etag_for_it()
    {
        var s = await TestStores.CreateAsync();
        var partition = Ids.New("ptn");
        var insert = new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, "state") { ["Value"] = 1, ["At"] = Make.T0 });
        var changes = Audited(partition);
        await s.Writer.CommitAsync(s.Tables.Partners, partition, [insert], changes, None);
        // Another writer changes the row before the resend (it comes up to 30 s after the first send).
        await s.Tables.Partners.UpsertEntityAsync(new TableEntity(partition, "state") { ["Value"] = 2, ["At"] = Make.T0 }, TableUpdateMode.Replace, None);

        var resent = await s.Writer.CommitAsync(s.Tables.Partners, partition, [insert], changes, None);

        resent.Should().Equal([""], "an ETag of a row holding another writer's change would let the caller overwrite it unseen");
    }
}
