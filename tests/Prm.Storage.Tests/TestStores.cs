using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Partners;
using Prm.Storage.Outbox;
using Prm.Storage.Partners;
using Prm.Testing;

namespace Prm.Storage.Tests;

/// <summary>The table adapters wired by hand over a fresh, isolated set of tables in the test Azurite.</summary>
internal sealed class TestStores
{
    private TestStores(StorageOptions options, PrmTables tables, FakeTimeProvider clock)
    {
        Options = options;
        Tables = tables;
        Clock = clock;
        Signal = new OutboxSignal();
        Pointers = new OutboxPointers(tables, Signal);
        Writer = new PartitionWriter(Pointers);
        Index = new PartnerIndex(tables);
        Store = new TablePartnerStore(tables, Writer, Index, NullLogger<TablePartnerStore>.Instance, clock);
        Directory = new TableIdentityDirectory(tables, Writer, clock);
        Staff = new TableStaffStore(tables);
        Deals = new Prm.Storage.Deals.TableDealStore(tables, Writer, clock);
    }

    public StorageOptions Options { get; }
    public PrmTables Tables { get; }
    public FakeTimeProvider Clock { get; }
    public OutboxSignal Signal { get; }
    public OutboxPointers Pointers { get; }
    public PartitionWriter Writer { get; }
    public PartnerIndex Index { get; }
    public TablePartnerStore Store { get; }
    public TableIdentityDirectory Directory { get; }
    public TableStaffStore Staff { get; }
    public Prm.Storage.Deals.TableDealStore Deals { get; }

    /// <summary>Fresh tables (own prefix) with the clock at the real current time, so it agrees with Azurite's Timestamp.</summary>
    /// <param name="transport">A policy on every transport attempt (<see cref="LostAnswerPolicy"/>).</param>
    public static async Task<TestStores> CreateAsync(Azure.Core.Pipeline.HttpPipelinePolicy? transport = null)
    {
        var options = await TestAzurite.FreshStorageAsync();
        var tables = new PrmTables(options, transport);
        await tables.EnsureCreatedAsync(CancellationToken.None);
        return new TestStores(options, tables, new FakeTimeProvider(DateTimeOffset.UtcNow));
    }

    /// <summary>Creates a partner with its users and one "created" timeline entry; returns its ETag.</summary>
    public Task<string> CreateAsync(Partner partner, params PartnerUser[] users) =>
        Store.CreateAsync(partner, users, new ChangeSet([Make.Audit("partner.created", partner.Id, partner.CreatedAt)], []), CancellationToken.None);

    /// <summary>Every row of a table partition whose RowKey starts with the prefix.</summary>
    public static async Task<List<TableEntity>> RowsAsync(TableClient table, string partitionKey, string rowKeyPrefix = "")
    {
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey}")))
        {
            if (row.RowKey.StartsWith(rowKeyPrefix, StringComparison.Ordinal)) rows.Add(row);
        }
        return rows;
    }
}

/// <summary>Builders of domain objects with unique keys.</summary>
internal static class Make
{
    public static readonly DateTimeOffset T0 = new(2025, 3, 14, 9, 30, 0, TimeSpan.Zero);

    public static string Domain() => "d" + Guid.NewGuid().ToString("N")[..12] + ".example.com";

    public static string Email(string name = "user") => $"{name}.{Guid.NewGuid().ToString("N")[..8]}@example.com";

    public static Partner Partner(string name = "Acme Corp", string? domain = null, string? channelManagerId = null,
        PartnerStatus status = PartnerStatus.Active, PartnerTier tier = PartnerTier.Registered, string region = "emea", int users = 0, int admins = 0) => new()
    {
        Id = Ids.New("ptn"),
        Name = name,
        Domain = domain ?? Domain(),
        Status = status,
        Tier = tier,
        Type = PartnerType.Reseller,
        Country = "DE",
        Region = region,
        ChannelManagerId = channelManagerId,
        Website = "https://www.example.com",
        Phone = "+49 30 1234567",
        Description = "Resells the product in Berlin & Brandenburg",
        City = "Berlin",
        UserCount = users,
        AdminCount = admins,
        CreatedAt = T0,
        UpdatedAt = T0.AddMinutes(1),
    };

    public static PartnerUser User(string partnerId, string? email = null, PartnerRole role = PartnerRole.PartnerUser, string name = "Pat Partner") => new()
    {
        Id = Ids.New("usr"),
        PartnerId = partnerId,
        Email = email ?? Email(),
        DisplayName = name,
        Role = role,
        Status = PartnerUserStatus.Invited,
        InvitedAt = T0,
        InvitedBy = "usr_admin",
    };

    public static AuditEntry Audit(string action, string subjectId, DateTimeOffset at, params FieldChange[] changes) =>
        new(Ids.New("aud"), at, "usr_actor", "Ada Admin", action, "partner", subjectId, changes);

    public static ChangeSet Audited(string action, string subjectId, DateTimeOffset at, params FieldChange[] changes) =>
        new([Audit(action, subjectId, at, changes)], []);
}
