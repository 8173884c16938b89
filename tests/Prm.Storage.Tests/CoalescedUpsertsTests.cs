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
}
