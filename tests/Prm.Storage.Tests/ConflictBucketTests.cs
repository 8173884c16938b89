using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Core.Partners;
using Prm.Storage.Deals;

namespace Prm.Storage.Tests;

/// <summary>The conflict index's buckets: written without a read when this process just found them absent, and never losing an entry for it.</summary>
public sealed class ConflictBucketTests
{
    private static BucketEntry Entry(string id) => new("deal", id, Ids.New("ptn"), "UnderReview", "acme.example", "acme", "DE", "cloud-backup", null, null);

    private static async Task<List<string>> IdsIn(TableClient table, string partition)
    {
        var found = await table.GetEntityIfExistsAsync<TableEntity>(partition, partition);
        return ConflictBuckets.Read(found.HasValue ? found.Value : null).Select(e => e.Id).ToList();
    }

    [Fact]
    public async Task Buckets_a_registration_found_absent_are_inserted_in_one_round_trip_each_others_read_first()
    {
        var s = await TestStores.CreateAsync();
        var table = s.Tables.ConflictIndex;
        var absent = new AbsentBuckets();
        var partitions = ConflictBuckets.Partitions("acme-" + Guid.NewGuid().ToString("N") + ".example", ["t-acme" + Guid.NewGuid().ToString("N")[..6]]);

        (await ConflictBuckets.ReadAsync(table, partitions, CancellationToken.None, absent)).Should().BeEmpty();
        var hinted = StorageCalls.BeginScope();
        await ConflictBuckets.PutAsync(table, partitions, Entry("deal_1"), CancellationToken.None, absent);
        hinted.Value.Should().Be(partitions.Count, "each bucket found absent is one insert");

        var read = StorageCalls.BeginScope();
        await ConflictBuckets.PutAsync(table, partitions, Entry("deal_2"), CancellationToken.None, absent);
        read.Value.Should().Be(2 * partitions.Count, "a hint is taken once: the next write reads, changes and writes");
        foreach (var partition in partitions) (await IdsIn(table, partition)).Should().Equal("deal_1", "deal_2");
    }

    [Fact]
    public async Task A_bucket_written_since_the_read_keeps_its_entries_when_the_hinted_insert_fails()
    {
        var s = await TestStores.CreateAsync();
        var table = s.Tables.ConflictIndex;
        var absent = new AbsentBuckets();
        var partitions = ConflictBuckets.Partitions("race-" + Guid.NewGuid().ToString("N") + ".example", []);

        await ConflictBuckets.ReadAsync(table, partitions, CancellationToken.None, absent); // absent now...
        await ConflictBuckets.PutAsync(table, partitions, Entry("deal_other"), CancellationToken.None); // ...written by another registration (no hint)
        var calls = StorageCalls.BeginScope();
        await ConflictBuckets.PutAsync(table, partitions, Entry("deal_mine"), CancellationToken.None, absent);

        calls.Value.Should().Be(3, "the refused insert, then the read and the replace");
        (await IdsIn(table, partitions[0])).Should().Equal("deal_other", "deal_mine");
    }

    [Fact]
    public async Task A_registrations_candidate_read_notes_its_absent_buckets_and_the_deal_projection_inserts_them_from_the_hint()
    {
        var s = await TestStores.CreateAsync();
        var at = s.Clock.GetUtcNow();

        // The store's candidate read (the registration's conflict check) leaves the hint...
        var readOnly = "read-" + Guid.NewGuid().ToString("N")[..12];
        await s.Deals.CandidatesAsync(readOnly + ".example", ["t-" + readOnly], CancellationToken.None);
        s.Tables.AbsentConflictBuckets.Take(ConflictBuckets.DomainPartition(readOnly + ".example")).Should().BeTrue();
        s.Tables.AbsentConflictBuckets.Take(ConflictBuckets.NamePartition("t-" + readOnly)).Should().BeTrue();

        // ...and the projection of the registration takes it: the buckets hold the deal, no hint is left.
        var name = "proj-" + Guid.NewGuid().ToString("N")[..12];
        var partnerId = Ids.New("ptn");
        var deal = new Deal
        {
            Id = DealIds.New(partnerId, at), RegistrationNumber = DealIds.RegistrationNumber(at), PartnerId = partnerId, PartnerName = "P", SubmittedBy = "usr_x",
            SubmittedByName = "X", SubmittedByEmail = "x@p.example", Status = DealStatus.UnderReview,
            Customer = new DealCustomer("Proj", name + ".example", "DE", null, null, name, ["t-" + name]),
            Products = ["cloud-backup"], EstimatedValue = new Money(10m, "EUR"), ExpectedCloseDate = DateOnly.FromDateTime(at.UtcDateTime.AddDays(30)),
            CreatedAt = at, SubmittedAt = at, Conflict = new DealConflict("none", 0, [], [], false, true), UpdatedAt = at,
        };
        var partitions = ConflictBuckets.Partitions(deal.Customer.Domain, deal.Customer.BlockingKeys);
        await s.Deals.CandidatesAsync(deal.Customer.Domain, deal.Customer.BlockingKeys, CancellationToken.None);
        await new DealProjection(s.Tables, NullLogger<DealProjection>.Instance).ApplyAsync(DealEvents.Create(DealEvents.Submitted, deal, at), CancellationToken.None);
        foreach (var partition in partitions)
        {
            s.Tables.AbsentConflictBuckets.Take(partition).Should().BeFalse("the projection took the hint of " + partition);
            (await IdsIn(s.Tables.ConflictIndex, partition)).Should().Equal(deal.Id);
        }
    }

    [Fact]
    public void A_hint_is_taken_once_and_only_for_a_noted_partition()
    {
        var absent = new AbsentBuckets();
        absent.Take("d:a").Should().BeFalse();
        absent.Note("d:a");
        absent.Take("d:b").Should().BeFalse();
        absent.Take("d:a").Should().BeTrue();
        absent.Take("d:a").Should().BeFalse();
    }
}
