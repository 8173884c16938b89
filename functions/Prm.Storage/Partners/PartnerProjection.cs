using System.Text.Json;
using Prm.Core.Outbox;
using Prm.Core.Partners;

namespace Prm.Storage.Partners;

/// <summary>Repairs the read-side copies (list index, identity links) from the outbox, in case the inline refresh after a commit failed.</summary>
public sealed class PartnerProjection(TablePartnerStore store, PartnerIndex index) : IOutboxProjection
{
    public async Task ApplyAsync(IntegrationEvent e, CancellationToken ct)
    {
        if (e.PartnerId is null) return;
        switch (e.Type)
        {
            case PartnerEvents.CreatedType or PartnerEvents.UpdatedType:
            {
                var data = e.Data.Deserialize<PartnerEvents.PartnerData>(OutboxJson.Options)!;
                // The commit refreshed the index inline; the repair refreshes it from the partner as stored now. The index writes are
                // monotonic in the partner's revision, so rows already as recent are left alone (two reads) and a late repair cannot
                // bring an older copy back.
                var current = await store.GetAsync(e.PartnerId, ct);
                if (current is not null) await index.RefreshAsync(current.Value, data.PreviousName, data.PreviousChannelManagerId, ct);
                break;
            }
            case PartnerEvents.UserChangedType:
            {
                var data = e.Data.Deserialize<PartnerEvents.UserData>(OutboxJson.Options)!;
                var user = await store.GetUserAsync(e.PartnerId, data.User.Id, ct);
                if (user is not null) await store.SyncIdentityAsync(user.Value, disabled: false, ct);
                break;
            }
        }
    }
}
