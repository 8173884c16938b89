using Azure.Data.Tables;
using Prm.Testing;

namespace Prm.Storage.Tests;

public sealed class CoalescedUpsertsTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static async Task<PrmTables> TablesAsync()
    {
        var tables = new PrmTables(await TestAzurite.FreshStorageAsync());
        await tables.EnsureCreatedAsync(None);
        return tables;
    }

    [Fact]
    public async Task Concurrent_upserts_of_one_partition_are_all_stored_in_fewer_round_trips_than_rows()
    {
        var tables = await TablesAsync();
        var upserts = new CoalescedUpserts(tables.PartnerIndex);
        var partition = "p" + Guid.NewGuid().ToString("N")[..8];

        var box = StorageCalls.BeginScope();
        await Task.WhenAll(Enumerable.Range(0, 250).Select(i => upserts.UpsertAsync(new TableEntity(partition, $"r{i:D3}") { ["Value"] = i }, None)));
        var calls = box.Value;

        var stored = await TestStores.RowsAsync(tables.PartnerIndex, partition);
        stored.Select(e => e.GetInt32("Value")).Should().BeEquivalentTo(Enumerable.Range(0, 250));
        calls.Should().BeLessThan(250, "rows queued behind a write in flight go together in one transaction").And.BeGreaterThanOrEqualTo(3);
    }

    [Fact]
    public async Task Two_writes_of_one_row_queued_together_both_complete_and_leave_one_of_them()
    {
        var tables = await TablesAsync();
        var upserts = new CoalescedUpserts(tables.PartnerIndex);
        var partition = "p" + Guid.NewGuid().ToString("N")[..8];

        // The first write goes alone; the others queue behind it, two of them for the same row (a transaction may not hold both).
        await Task.WhenAll(
            upserts.UpsertAsync(new TableEntity(partition, "first"), None),
            upserts.UpsertAsync(new TableEntity(partition, "same") { ["Value"] = 1 }, None),
            upserts.UpsertAsync(new TableEntity(partition, "same") { ["Value"] = 2 }, None),
            upserts.UpsertAsync(new TableEntity(partition, "other"), None));

        var stored = await TestStores.RowsAsync(tables.PartnerIndex, partition);
        stored.Select(e => e.RowKey).Should().BeEquivalentTo("first", "other", "same");
        stored.Single(e => e.RowKey == "same").GetInt32("Value").Should().Be(2, "writes of one row keep their order");
    }

    [Fact]
    public async Task A_failed_write_fails_each_writer_it_carried_and_the_partition_takes_writes_again_afterwards()
    {
        var tables = await TablesAsync();
        var table = tables.Service.GetTableClient("coalesced" + Guid.NewGuid().ToString("N")[..8]);
        var upserts = new CoalescedUpserts(table);

        // The table does not exist yet: the first write (alone) and the batch queued behind it both fail, for each of their writers.
        var writes = new[] { "a", "b", "c" }.Select(key => upserts.UpsertAsync(new TableEntity("p", key), None)).ToList();
        foreach (var write in writes) await FluentActions.Awaiting(() => write).Should().ThrowAsync<Azure.RequestFailedException>();

        await table.CreateAsync(None);
        await upserts.UpsertAsync(new TableEntity("p", "d"), None);
        (await TestStores.RowsAsync(table, "p")).Select(e => e.RowKey).Should().Equal("d");
        await table.DeleteAsync(None);
    }

    [Fact]
    public async Task A_refused_condition_in_a_batch_fails_only_its_own_write_and_the_others_are_stored_with_their_etags()
    {
        var tables = await TablesAsync();
        var writes = new CoalescedUpserts(tables.PartnerIndex);
        var partition = "p" + Guid.NewGuid().ToString("N")[..8];
        var taken = await tables.PartnerIndex.AddEntityAsync(new TableEntity(partition, "taken") { ["Value"] = 0 }, None);

        // The first write goes alone; the rest queue behind it and go in one transaction, which the insert of "taken" refuses whole.
        var box = StorageCalls.BeginScope();
        var first = writes.SubmitAsync(new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, "first")), None);
        var conflicting = writes.SubmitAsync(new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, "taken") { ["Value"] = 1 }), None);
        var inserted = writes.SubmitAsync(new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, "new") { ["Value"] = 2 }), None);
        var replaced = writes.SubmitAsync(new TableTransactionAction(TableTransactionActionType.UpdateReplace, new TableEntity(partition, "taken2") { ["Value"] = 3 }, taken.Headers.ETag!.Value), None);

        (await FluentActions.Awaiting(() => conflicting).Should().ThrowAsync<Azure.RequestFailedException>()).Which.Status.Should().Be(409);
        (await FluentActions.Awaiting(() => replaced).Should().ThrowAsync<Azure.RequestFailedException>()).Which.Status.Should().Be(404);
        await Task.WhenAll(first, inserted);
        var calls = box.Value;
        var stored = await TestStores.RowsAsync(tables.PartnerIndex, partition);
        stored.Select(e => (e.RowKey, e.GetInt32("Value"))).Should().BeEquivalentTo(new[] { ("first", (int?)null), ("new", 2), ("taken", 0) });
        (await first).Should().Be(stored.Single(e => e.RowKey == "first").ETag);
        (await inserted).Should().Be(stored.Single(e => e.RowKey == "new").ETag, "each write answers with its own row's ETag");
        calls.Should().Be(5, "the first write, the refused transaction of the three queued behind it, then each of them alone");
    }
}
