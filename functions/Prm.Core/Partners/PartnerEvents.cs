using Prm.Core.Audit;
using Prm.Core.Common;
using Prm.Core.Outbox;

namespace Prm.Core.Partners;

/// <summary>The integration events of the partner directory.</summary>
public static class PartnerEvents
{
    [EventPayload(typeof(PartnerData))]
    public const string CreatedType = "partner.created";
    [EventPayload(typeof(PartnerData))]
    public const string UpdatedType = "partner.updated";
    [EventPayload(typeof(UserData))]
    public const string UserInvitedType = "partner.user.invited";
    [EventPayload(typeof(UserData))]
    public const string UserChangedType = "partner.user.changed";
    [EventPayload(typeof(UserData), Summary = "An invited person signed in for the first time and joined the partner.")]
    public const string UserJoinedType = "partner.user.joined";
    [EventPayload(typeof(UserData))]
    public const string UserRemovedType = "partner.user.removed";

    /// <summary>Event data: the partner after the change, plus its previous name and owner so index rows can move.</summary>
    public sealed record PartnerData(PartnerDto Partner, string? PreviousName, string? PreviousChannelManagerId, IReadOnlyList<FieldChange> Changes);

    /// <summary>Event data of a user change.</summary>
    public sealed record UserData(PartnerUserDto User, IReadOnlyList<FieldChange> Changes);

    public static IntegrationEvent Created(Partner p, DateTimeOffset at) =>
        IntegrationEvent.Create(Ids.New("evt"), CreatedType, at, $"partners/{p.Id}", p.Id, Correlation.Id, new PartnerData(PartnerDto.From(p), null, null, []));

    public static IntegrationEvent Updated(Partner before, Partner after, IReadOnlyList<FieldChange> changes, DateTimeOffset at) =>
        IntegrationEvent.Create(Ids.New("evt"), UpdatedType, at, $"partners/{after.Id}", after.Id, Correlation.Id, new PartnerData(PartnerDto.From(after), before.Name, before.ChannelManagerId, changes));

    public static IntegrationEvent User(string type, PartnerUser u, IReadOnlyList<FieldChange> changes, DateTimeOffset at) =>
        IntegrationEvent.Create(Ids.New("evt"), type, at, $"partners/{u.PartnerId}/users/{u.Id}", u.PartnerId, Correlation.Id, new UserData(PartnerUserDto.From(u), changes));
}
