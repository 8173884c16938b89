using Azure.Data.Tables;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.Storage.Partners;

/// <summary>Table mapping of partners and partner users.</summary>
internal static class PartnerRows
{
    public const string ProfileKey = "profile";
    public const string UserPrefix = "user|";

    public static TableEntity ToEntity(Partner p, string partitionKey, string rowKey) => new(partitionKey, rowKey)
    {
        ["PartnerId"] = p.Id,
        ["Name"] = p.Name,
        ["Domain"] = p.Domain,
        ["Status"] = p.Status.ToString(),
        ["Tier"] = p.Tier.ToString(),
        ["Type"] = p.Type.ToString(),
        ["Country"] = p.Country,
        ["Region"] = p.Region,
        ["ChannelManagerId"] = p.ChannelManagerId,
        ["Website"] = p.Website,
        ["Phone"] = p.Phone,
        ["Description"] = p.Description,
        ["City"] = p.City,
        ["UserCount"] = p.UserCount,
        ["AdminCount"] = p.AdminCount,
        ["ProfileCompletedAt"] = p.ProfileCompletedAt,
        ["AgreementVersion"] = p.AgreementVersion,
        ["AgreementAcceptedAt"] = p.AgreementAcceptedAt,
        ["FirstUserInvitedAt"] = p.FirstUserInvitedAt,
        ["FirstDealRegisteredAt"] = p.FirstDealRegisteredAt,
        ["FirstCertificationAt"] = p.FirstCertificationAt,
        ["ChecklistRemindersSent"] = p.ChecklistRemindersSent,
        ["CreatedAt"] = p.CreatedAt,
        ["UpdatedAt"] = p.UpdatedAt,
        ["Revision"] = p.Revision,
    };

    public static TableEntity Profile(Partner p) => ToEntity(p, p.Id, ProfileKey);

    public static Partner ReadPartner(TableEntity e) => new()
    {
        Id = e.GetString("PartnerId") ?? e.PartitionKey,
        Name = e.GetString("Name"),
        Domain = e.GetString("Domain"),
        Status = Enum.Parse<PartnerStatus>(e.GetString("Status")),
        Tier = Enum.Parse<PartnerTier>(e.GetString("Tier")),
        Type = Enum.Parse<PartnerType>(e.GetString("Type")),
        Country = e.GetString("Country"),
        Region = e.GetString("Region"),
        ChannelManagerId = e.GetString("ChannelManagerId"),
        Website = e.GetString("Website"),
        Phone = e.GetString("Phone"),
        Description = e.GetString("Description"),
        City = e.GetString("City"),
        UserCount = e.GetInt32("UserCount") ?? 0,
        AdminCount = e.GetInt32("AdminCount") ?? 0,
        ProfileCompletedAt = e.GetDateTimeOffset("ProfileCompletedAt"),
        AgreementVersion = e.GetString("AgreementVersion"),
        ChecklistRemindersSent = e.GetInt32("ChecklistRemindersSent") ?? 0,
        AgreementAcceptedAt = e.GetDateTimeOffset("AgreementAcceptedAt"),
        FirstUserInvitedAt = e.GetDateTimeOffset("FirstUserInvitedAt"),
        FirstDealRegisteredAt = e.GetDateTimeOffset("FirstDealRegisteredAt"),
        FirstCertificationAt = e.GetDateTimeOffset("FirstCertificationAt"),
        CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        UpdatedAt = e.GetDateTimeOffset("UpdatedAt") ?? DateTimeOffset.MinValue,
        Revision = e.GetInt64("Revision") ?? 0,
    };

    public static TableEntity User(PartnerUser u) => new(u.PartnerId, UserPrefix + u.Id)
    {
        ["UserId"] = u.Id,
        ["Email"] = u.Email,
        ["DisplayName"] = u.DisplayName,
        ["Role"] = u.Role.ToString(),
        ["Status"] = u.Status.ToString(),
        ["InvitedAt"] = u.InvitedAt,
        ["InvitedBy"] = u.InvitedBy,
        ["JoinedAt"] = u.JoinedAt,
        ["ReminderSentAt"] = u.ReminderSentAt,
        ["InvitationCodeHash"] = u.InvitationCodeHash,
        ["TenantId"] = u.TenantId,
        ["ObjectId"] = u.ObjectId,
    };

    public static PartnerUser ReadUser(TableEntity e) => new()
    {
        Id = e.GetString("UserId"),
        PartnerId = e.PartitionKey,
        Email = e.GetString("Email"),
        DisplayName = e.GetString("DisplayName"),
        Role = Enum.Parse<PartnerRole>(e.GetString("Role")),
        Status = Enum.Parse<PartnerUserStatus>(e.GetString("Status")),
        InvitedAt = e.GetDateTimeOffset("InvitedAt") ?? DateTimeOffset.MinValue,
        InvitedBy = e.GetString("InvitedBy"),
        JoinedAt = e.GetDateTimeOffset("JoinedAt"),
        ReminderSentAt = e.GetDateTimeOffset("ReminderSentAt"),
        InvitationCodeHash = e.GetString("InvitationCodeHash"),
        TenantId = e.GetString("TenantId"),
        ObjectId = e.GetString("ObjectId"),
    };
}

/// <summary>Key rows in the keys table: one partition per key, so look-ups and claims are point operations.</summary>
internal static class KeyRows
{
    public static string Domain(string domain) => "domain:" + KeyEncoding.Encode(domain);

    public static string Email(string email) => "email:" + KeyEncoding.Encode(email);

    public static string Identity(string tenantId, string objectId) => "identity:" + KeyEncoding.Encode(tenantId) + "|" + KeyEncoding.Encode(objectId);

    /// <summary>The column that says who claimed a domain or email key: a partner's creation or a user's invitation (reservations and staff leave it out).</summary>
    public const string ClaimColumn = "Claim";

    public const string ByCreation = "create";

    public const string ByInvitation = "invite";

    /// <summary>
    /// How long a claimed key row naming a partner or user that does not exist is left alone before a new claim takes it over: far longer
    /// than any creation or invitation takes between its claim and its commit (the HTTP front end ends a request after 230 s).
    /// </summary>
    public static readonly TimeSpan AbandonedClaimAfter = TimeSpan.FromMinutes(15);
}
