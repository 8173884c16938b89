using Prm.Core.Leads;
using Prm.Storage.Leads;

namespace Prm.Storage.Tests;

/// <summary>The routing index: candidates from bucket rows (a bounded number of round trips whatever the number of partners), key rows of intake.</summary>
public sealed class LeadRoutingIndexTests
{
    private static RoutingEntry Entry(int i, string region = "apac", string country = "JP", double weight = 1) => new()
    {
        PartnerId = "ptn_" + i.ToString("x32", System.Globalization.CultureInfo.InvariantCulture), Name = "Partner " + i, Tier = "gold", Country = country, Region = region, Weight = weight,
    };

    private static async Task SeedAsync(TableLeadRoutingIndex index, IReadOnlyList<RoutingEntry> entries)
    {
        await index.SeedAsync("all", entries, CancellationToken.None);
        foreach (var g in entries.GroupBy(e => e.Region)) await index.SeedAsync("r:" + g.Key, g, CancellationToken.None);
        foreach (var g in entries.GroupBy(e => e.Country)) await index.SeedAsync("c:" + g.Key, g, CancellationToken.None);
    }

    private static Lead Lead(string region, string country) => new()
    {
        Id = Prm.Core.Leads.LeadIds.New(), Status = LeadStatus.New, Company = new LeadCompany("Contoso", null, country, region, null, null, null),
        Contact = new LeadContact("Chris", "chris@contoso.example", null, null), ProductLines = ["cloud-backup"], ConsentToShare = true,
        CreatedBy = "usr_admin", CreatedByName = "Ada", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
    };

    [Theory]
    [InlineData(50)]
    [InlineData(5_000)]
    public async Task A_routing_decision_costs_the_same_few_round_trips_with_50_or_5000_partners(int partners)
    {
        var s = await TestStores.CreateAsync();
        var index = new TableLeadRoutingIndex(s.Tables);
        var entries = Enumerable.Range(1, partners).Select(i => Entry(i, i % 2 == 0 ? "apac" : "emea", i % 2 == 0 ? "JP" : "DE", 1 + i % 3)).ToList();
        await SeedAsync(index, entries);
        var named = entries[0];
        var settings = new LeadSettings
        {
            Rules =
            [
                new LeadRule { Name = "EMEA to one partner", When = new LeadRuleConditions { Regions = ["emea"] }, Action = "partner", PartnerId = named.PartnerId },
                new LeadRule { Name = "Weighted in the region", Action = "weighted", Scope = "region" },
                new LeadRule { Name = "Weighted over all", Action = "weighted", Scope = "all" },
            ],
        };
        var router = new LeadRouter(index);
        var lead = Lead("apac", "JP");
        using var scope = new CountScope();
        var decision = await router.DecideAsync(lead, settings, DateTimeOffset.UtcNow, CancellationToken.None);
        decision.Partner.Should().NotBeNull();
        decision.Partner!.Region.Should().Be("apac");
        // The region partition and the deal holder's key row (the named rule does not match an APAC lead).
        scope.Calls.Should().BeLessThanOrEqualTo(3);
        decision.Trace.CandidateCount.Should().Be(partners / 2);
        if (partners <= LeadRouting.TraceCandidates) LeadRouting.Replay(decision.Trace).Should().Be(decision.Partner.PartnerId);

        using var emea = new CountScope();
        var toNamed = await router.DecideAsync(Lead("emea", "DE"), settings, DateTimeOffset.UtcNow, CancellationToken.None);
        toNamed.Partner!.PartnerId.Should().Be(named.PartnerId);
        emea.Calls.Should().BeLessThanOrEqualTo(4, "two partitions, the named partner's bucket row, the deal holder");
    }

    [Fact]
    public async Task Concurrent_changes_of_one_bucket_row_keep_every_entry()
    {
        var s = await TestStores.CreateAsync();
        var index = new TableLeadRoutingIndex(s.Tables);
        // Ids ending in the same hex digit share a bucket row: every change is a read-modify-write of that row with its ETag.
        var entries = Enumerable.Range(0, 20).Select(i => Entry(i * 16)).ToList();
        await Task.WhenAll(entries.Select(e => index.PutAsync("all", e.PartnerId, _ => e, CancellationToken.None)));
        var all = await index.ReadAsync(["all"], CancellationToken.None);
        all["all"].Select(e => e.PartnerId).Should().BeEquivalentTo(entries.Select(e => e.PartnerId));
        await index.PutAsync("all", entries[3].PartnerId, _ => null, CancellationToken.None);
        (await index.EntriesAsync([entries[3].PartnerId, entries[4].PartnerId], CancellationToken.None)).Keys.Should().Equal(entries[4].PartnerId);
        var zero = entries[5] with { Weight = 0 };
        await index.PutAsync("all", zero.PartnerId, _ => zero, CancellationToken.None);
        (await index.EntriesAsync([zero.PartnerId], CancellationToken.None))[zero.PartnerId].Weight.Should().Be(0, "a weight of 0 is stored, not read back as the default");
    }

    [Fact]
    public async Task External_id_key_rows_are_taken_once_replaced_with_their_etag_and_released_only_by_their_lead()
    {
        var s = await TestStores.CreateAsync();
        var store = new TableLeadStore(s.Tables, s.Writer);
        var now = DateTimeOffset.UtcNow;
        (await store.TryAddKeyAsync("ext", "crm-1", "lead_a", now, CancellationToken.None)).Should().BeTrue();
        (await store.TryAddKeyAsync("ext", "crm-1", "lead_b", now, CancellationToken.None)).Should().BeFalse();
        var key = await store.FindKeyAsync("ext", "crm-1", CancellationToken.None);
        key!.LeadId.Should().Be("lead_a");
        (await store.ReplaceKeyAsync("ext", "crm-1", "lead_b", now, key.ETag, CancellationToken.None)).Should().BeTrue();
        (await store.ReplaceKeyAsync("ext", "crm-1", "lead_c", now, key.ETag, CancellationToken.None)).Should().BeFalse("the ETag is stale");
        await store.ReleaseKeyAsync("ext", "crm-1", "lead_a", CancellationToken.None);
        (await store.FindKeyAsync("ext", "crm-1", CancellationToken.None))!.LeadId.Should().Be("lead_b", "only the lead it points at releases it");
        await store.ReleaseKeyAsync("ext", "crm-1", "lead_b", CancellationToken.None);
        (await store.FindKeyAsync("ext", "crm-1", CancellationToken.None)).Should().BeNull();
    }

    /// <summary>Counts the storage round trips of the current async flow.</summary>
    private sealed class CountScope : IDisposable
    {
        private readonly StorageCallScope box = StorageCalls.BeginScope();

        public int Calls => box.Value;

        public void Dispose()
        {
        }
    }
    [Fact]
    public async Task The_profile_etag_survives_the_lead_events_figures_in_the_same_row_and_a_competing_save_makes_it_stale()
    {
        var s = await TestStores.CreateAsync();
        var index = new TableLeadRoutingIndex(s.Tables);
        var partnerId = "ptn_" + Guid.NewGuid().ToString("N");
        (await index.FiguresAsync(partnerId, CancellationToken.None)).ProfileETag.Should().Be(LeadPartnerFigures.NeverSavedProfileETag);
        var first = await index.SaveProfileAsync(partnerId, 2, null, LeadPartnerFigures.NeverSavedProfileETag, CancellationToken.None);

        // A lead event rewrites the figures row (an offer counted) after the client read the profile.
        var (figures, rowETag) = await index.ReadFiguresAsync(partnerId, CancellationToken.None);
        var row = new Azure.Data.Tables.TableEntity(TableLeadRoutingIndex.FiguresPartition(partnerId), TableLeadRoutingIndex.FiguresRow);
        ChunkedText.Write(row, "Body", System.Text.Json.JsonSerializer.Serialize(figures with { Offers = figures.Offers + 1 }, Prm.Storage.Deals.TableDealStore.Json));
        await s.Tables.LeadRouting.UpdateEntityAsync(row, new Azure.ETag(rowETag!), Azure.Data.Tables.TableUpdateMode.Replace);

        var second = await index.SaveProfileAsync(partnerId, 0, null, first, CancellationToken.None);
        second.Should().NotBe(first);
        var after = await index.FiguresAsync(partnerId, CancellationToken.None);
        after.Offers.Should().Be(1, "the save keeps what the lead event wrote");
        after.Weight.Should().Be(0);
        after.ProfileETag.Should().Be(second);
        var stale = () => index.SaveProfileAsync(partnerId, 3, null, first, CancellationToken.None);
        await stale.Should().ThrowAsync<Prm.Core.Common.PreconditionFailedException>("another save came in between");
        (await index.FiguresAsync(partnerId, CancellationToken.None)).Weight.Should().Be(0);
    }
}
