using Azure.Data.Tables;
using Prm.Storage.Files;
using Prm.Testing;

namespace Prm.Storage.Tests;

public sealed class StorageCallCountingTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static async Task<PrmTables> TablesWithRowAsync()
    {
        var tables = new PrmTables(await TestAzurite.FreshStorageAsync());
        await tables.EnsureCreatedAsync(None);
        await tables.Staff.AddEntityAsync(new TableEntity("p", "present") { ["Value"] = 1 }, None);
        return tables;
    }

    [Fact]
    public async Task A_point_read_counts_one_call()
    {
        var tables = await TablesWithRowAsync();

        var box = StorageCalls.BeginScope();
        var found = await tables.Staff.GetEntityIfExistsAsync<TableEntity>("p", "present", cancellationToken: None);

        found.HasValue.Should().BeTrue();
        box.Value.Should().Be(1);
        StorageCalls.Count.Should().Be(1);
    }

    [Fact]
    public async Task A_point_read_of_a_missing_entity_still_counts_one_call()
    {
        var tables = await TablesWithRowAsync();

        var box = StorageCalls.BeginScope();
        var found = await tables.Staff.GetEntityIfExistsAsync<TableEntity>("p", "missing", cancellationToken: None);

        found.HasValue.Should().BeFalse();
        box.Value.Should().Be(1);
    }

    [Fact]
    public async Task A_transaction_counts_one_call_and_calls_add_up()
    {
        var tables = await TablesWithRowAsync();

        var box = StorageCalls.BeginScope();
        await tables.Staff.SubmitTransactionAsync(
        [
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("t", "a")),
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("t", "b")),
            new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity("t", "c")),
        ], None);

        box.Value.Should().Be(1);
        await tables.Staff.GetEntityIfExistsAsync<TableEntity>("t", "a", cancellationToken: None);
        await tables.Keys.GetEntityIfExistsAsync<TableEntity>("t", "a", cancellationToken: None);
        box.Value.Should().Be(3);
    }

    [Fact]
    public async Task A_new_scope_starts_from_zero()
    {
        var tables = await TablesWithRowAsync();
        var first = StorageCalls.BeginScope();
        await tables.Staff.GetEntityIfExistsAsync<TableEntity>("p", "present", cancellationToken: None);

        var second = StorageCalls.BeginScope();
        await tables.Staff.GetEntityIfExistsAsync<TableEntity>("p", "present", cancellationToken: None);

        first.Value.Should().Be(1);
        second.Value.Should().Be(1);
    }

    [Fact]
    public async Task Calls_outside_a_scope_do_not_throw_and_count_nothing()
    {
        var tables = await TablesWithRowAsync();
        var outer = StorageCalls.BeginScope();

        int countInside;
        Task<int> unscoped;
        // A flow that does not inherit the test's scope, like a request without the counting middleware.
        using (ExecutionContext.SuppressFlow())
        {
            unscoped = Task.Run(async () =>
            {
                var found = await tables.Staff.GetEntityIfExistsAsync<TableEntity>("p", "present", cancellationToken: None);
                found.HasValue.Should().BeTrue();
                return StorageCalls.Count;
            });
        }
        countInside = await unscoped;

        countInside.Should().Be(0);
        outer.Value.Should().Be(0, "calls of another flow do not count in this scope");
    }

    [Fact]
    public async Task Concurrent_scopes_count_their_own_calls()
    {
        var tables = await TablesWithRowAsync();

        async Task<int> Flow(int reads)
        {
            await Task.Yield();
            var box = StorageCalls.BeginScope();
            for (var i = 0; i < reads; i++) await tables.Staff.GetEntityIfExistsAsync<TableEntity>("p", "present", cancellationToken: None);
            return box.Value;
        }

        var counts = await Task.WhenAll(Flow(1), Flow(2), Flow(3));

        counts.Should().Equal(1, 2, 3);
    }

    [Fact]
    public async Task Blob_calls_count_and_generating_a_sas_url_costs_no_call()
    {
        var options = await TestAzurite.FreshStorageAsync();
        var files = new BlobFiles(options, TimeProvider.System);
        await files.EnsureContainersAsync(None);

        var box = StorageCalls.BeginScope();
        await files.UploadUrlAsync(Containers.Assets, "count/" + Guid.NewGuid().ToString("N"), TimeSpan.FromMinutes(5), None);
        box.Value.Should().Be(0);
        await files.Blob(Containers.Assets, "count/" + Guid.NewGuid().ToString("N")).ExistsAsync(None);
        box.Value.Should().Be(1);
    }

    [Fact]
    public async Task Sequential_calls_make_the_critical_path_and_calls_made_side_by_side_count_once_on_it()
    {
        var tables = await TablesWithRowAsync();
        var scope = StorageCalls.BeginScope();
        for (var i = 0; i < 3; i++) await tables.Staff.GetEntityIfExistsAsync<TableEntity>("p", "present", cancellationToken: None);
        scope.Value.Should().Be(3);
        scope.CriticalPath.Should().Be(3, "each call waited for the one before");
    }

    [Fact]
    public void The_critical_path_is_the_longest_chain_of_calls_that_do_not_overlap()
    {
        long tick = 0;
        var scope = new StorageCallScope(() => ++tick);
        // a and b run side by side, c after both, d overlaps c: the chain is a (or b), then c (or d) = 2.
        var a = scope.Begin();
        var b = scope.Begin();
        scope.End(a);
        scope.End(b);
        var c = scope.Begin();
        var d = scope.Begin();
        scope.End(c);
        scope.End(d);
        scope.Value.Should().Be(4);
        scope.CriticalPath.Should().Be(2);

        var e = scope.Begin(); // still running: it counts until now, after c and d ended
        scope.CriticalPath.Should().Be(3);
        scope.End(e);
        new StorageCallScope().CriticalPath.Should().Be(0);
    }
}
