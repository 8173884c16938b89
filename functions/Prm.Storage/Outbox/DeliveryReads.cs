using System.Collections.Concurrent;
using Prm.Core.Common;
using Prm.Core.Partners;

namespace Prm.Storage.Outbox;

/// <summary>
/// Reads shared by the projections of one outbox delivery (a commit's messages, or a sweep's partition): the partner record that the KPI,
/// incentive, tier and checklist projections each need is read once per delivery instead of once per projection and event. A write of
/// that partner through <see cref="Partners.TablePartnerStore"/> (succeeded or failed) forgets it, so a projection that writes with an
/// ETag and loses a race reads the row again. Outside a delivery (requests) nothing is shared. Projections are eventually consistent and
/// version-guarded, so a read a few milliseconds older than a fresh one changes nothing they decide.
/// </summary>
public sealed class DeliveryReads : IDisposable
{
    private static readonly AsyncLocal<DeliveryReads?> Ambient = new();
    private readonly ConcurrentDictionary<string, Task<Versioned<Partner>?>> partners = new(StringComparer.Ordinal);
    private readonly DeliveryReads? outer;

    private DeliveryReads(DeliveryReads? outer) => this.outer = outer;

    /// <summary>The delivery's shared reads, when the current flow is delivering outbox messages.</summary>
    public static DeliveryReads? Current => Ambient.Value;

    /// <summary>Starts sharing reads for the rest of the calling method (dispose to end it).</summary>
    public static DeliveryReads Begin()
    {
        var scope = new DeliveryReads(Ambient.Value);
        Ambient.Value = scope;
        return scope;
    }

    /// <summary>The partner as first read in this delivery; a failed read is not kept.</summary>
    public async Task<Versioned<Partner>?> PartnerAsync(string partnerId, Func<Task<Versioned<Partner>?>> read)
    {
        var pending = partners.GetOrAdd(partnerId, _ => read());
        try
        {
            return await pending;
        }
        catch
        {
            partners.TryRemove(new KeyValuePair<string, Task<Versioned<Partner>?>>(partnerId, pending));
            throw;
        }
    }

    private readonly ConcurrentDictionary<string, object> noted = new(StringComparer.Ordinal);

    /// <summary>
    /// Notes a row a projection of this delivery just read or committed (e.g. the deal counters), for a later projection of the same
    /// delivery that reads it (the tier evaluation): it gets exactly what was committed, without a read.
    /// </summary>
    public void Note(string key, object value) => noted[key] = value;

    /// <summary>What <see cref="Note"/> kept under <paramref name="key"/>, or null.</summary>
    public T? Noted<T>(string key) where T : class => noted.TryGetValue(key, out var value) ? value as T : null;

    /// <summary>Forgets a partner this delivery read (it is being written).</summary>
    public void Forget(string partnerId) => partners.TryRemove(partnerId, out _);

    public void Dispose()
    {
        if (Ambient.Value == this) Ambient.Value = outer;
    }
}
