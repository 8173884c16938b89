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
                // The commit refreshed the index inline; repair only when that row is missing or older than this change.
                var moved = (data.PreviousName is not null && data.PreviousName != data.Partner.Name) || data.PreviousChannelManagerId != data.Partner.ChannelManagerId;
                if (!moved && await index.IsCurrentAsync(data.Partner.Id, data.Partner.Name, data.Partner.ChannelManagerId, data.Partner.UpdatedAt, ct)) break;
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
