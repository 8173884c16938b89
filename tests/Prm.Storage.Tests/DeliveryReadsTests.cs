using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Partners;
using Prm.Storage.Outbox;

namespace Prm.Storage.Tests;

/// <summary>The projections of one outbox delivery share their reads of a partner; a write of it through the store forgets the shared read.</summary>
public sealed class DeliveryReadsTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Within_a_delivery_a_partner_is_read_once_and_outside_every_time()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner("Shared Reads GmbH");
        await s.CreateAsync(partner);

        var outside = StorageCalls.BeginScope();
        (await s.Store.GetAsync(partner.Id, None))!.Value.Name.Should().Be("Shared Reads GmbH");
        (await s.Store.GetAsync(partner.Id, None))!.Value.Name.Should().Be("Shared Reads GmbH");
        outside.Value.Should().Be(2, "a request reads the row every time");

        var inside = StorageCalls.BeginScope();
        using (DeliveryReads.Begin())
        {
            var reads = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => s.Store.GetAsync(partner.Id, None)));
            reads.Select(r => r!.ETag).Distinct().Should().ContainSingle();
            (await s.Store.GetAsync(partner.Id, None))!.Value.Name.Should().Be("Shared Reads GmbH");
        }
        inside.Value.Should().Be(1, "the projections of one delivery share one read");

        var after = StorageCalls.BeginScope();
        await s.Store.GetAsync(partner.Id, None);
        after.Value.Should().Be(1, "the delivery's reads end with it");
        DeliveryReads.Current.Should().BeNull();
    }

    [Fact]
    public async Task A_write_in_the_delivery_forgets_the_shared_read_so_the_next_read_sees_it()
    {
        var s = await TestStores.CreateAsync();
        var partner = Make.Partner("Written In Delivery AG");
        await s.CreateAsync(partner);
        using (DeliveryReads.Begin())
        {
            var first = (await s.Store.GetAsync(partner.Id, None))!;
            var etag = await s.Store.UpdateAsync(first.Value with { City = "Linz" }, first.ETag,
                Make.Audited("partner.updated", partner.Id, Make.T0.AddHours(1), new FieldChange("city", first.Value.City, "Linz")), None);
            var again = (await s.Store.GetAsync(partner.Id, None))!;
            again.Value.City.Should().Be("Linz");
            again.ETag.Should().Be(etag);

            // Someone outside the delivery changes the partner; the delivery's shared read is now stale, and a write with it loses its
            // race. That failed write forgets the read too, so the projection's retry reads the current row instead of losing again.
            Task<string> outsider;
            using (ExecutionContext.SuppressFlow())
            {
                outsider = Task.Run(() => s.Store.UpdateAsync(again.Value with { City = "Wels" }, again.ETag,
                    Make.Audited("partner.updated", partner.Id, Make.T0.AddHours(2), new FieldChange("city", "Linz", "Wels")), None));
            }
            var outsiderETag = await outsider;
            (await s.Store.GetAsync(partner.Id, None))!.Value.City.Should().Be("Linz", "the delivery still shares its read");
            var lost = () => s.Store.UpdateAsync(again.Value with { City = "Graz" }, again.ETag, Make.Audited("partner.updated", partner.Id, Make.T0.AddHours(3)), None);
            await lost.Should().ThrowAsync<Exception>();
            var current = (await s.Store.GetAsync(partner.Id, None))!;
            current.Value.City.Should().Be("Wels");
            current.ETag.Should().Be(outsiderETag);
        }
    }
}
