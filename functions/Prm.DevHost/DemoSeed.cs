using System.Security.Cryptography;
using System.Text;
using Prm.Core.Identity;
using Prm.Core.Partners;

namespace Prm.DevHost;

/// <summary>A demo person the local host can sign in.</summary>
public sealed record DemoUser(string Email, string Name, string Role, string? Company);

/// <summary>Seeds a demo program idempotently: a program admin, two channel managers (two regions), two partners each with a partner admin and a sales rep.</summary>
public sealed class DemoSeed(IStaffStore staff, IPartnerStore partners, PartnerDirectory directory, PartnerTeam team, Prm.Core.Deals.IProductLineStore productLines, Prm.Core.Deals.IHouseAccountStore houseAccounts,
    Prm.Core.Settings.ProgramSettings settings, Prm.Storage.Leads.LeadProjection leadIndex)
{
    public static readonly IReadOnlyList<DemoUser> Users =
    [
        new("admin@vendor.example", "Avery Admin", "Program admin (Prm.Admin)", null),
        new("cm.emea@vendor.example", "Elena Emea", "Channel manager EMEA (Prm.ChannelManager)", null),
        new("cm.amer@vendor.example", "Andre Amer", "Channel manager AMER (Prm.ChannelManager)", null),
        new("anna@northwind.example", "Anna Northwind", "Partner admin", "Northwind Traders (EMEA)"),
        new("sam@northwind.example", "Sam Northwind", "Sales rep", "Northwind Traders (EMEA)"),
        new("frank@fabrikam.example", "Frank Fabrikam", "Partner admin", "Fabrikam Solutions (AMER)"),
        new("rita@fabrikam.example", "Rita Fabrikam", "Sales rep", "Fabrikam Solutions (AMER)"),
    ];

    /// <summary>A stable staff id for a seeded email.</summary>
    public static string StaffId(string email) => "usr_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email)))[..32];

    public async Task RunAsync(CancellationToken ct)
    {
        var admin = new StaffMember(StaffId("admin@vendor.example"), "admin@vendor.example", "Avery Admin", [AppRoles.Admin], null);
        var emea = new StaffMember(StaffId("cm.emea@vendor.example"), "cm.emea@vendor.example", "Elena Emea", [AppRoles.ChannelManager], "emea");
        var amer = new StaffMember(StaffId("cm.amer@vendor.example"), "cm.amer@vendor.example", "Andre Amer", [AppRoles.ChannelManager], "amer");
        // Independent writes side by side (the server listens once the seed is done, so its round trips are start-up time).
        await Task.WhenAll(new[] { admin, emea, amer }.Select(member => staff.UpsertAsync(member, ct)));

        var seeder = new Caller(admin.Id, admin.Email, admin.DisplayName, admin.Roles, null, null);
        await Task.WhenAll(
            PartnerAsync(seeder, "Northwind Traders", "northwind.example", "DE", "emea", "gold", emea.Id,
                ("anna@northwind.example", "Anna Northwind"), ("sam@northwind.example", "Sam Northwind"), ct),
            PartnerAsync(seeder, "Fabrikam Solutions", "fabrikam.example", "US", "amer", "silver", amer.Id,
                ("frank@fabrikam.example", "Frank Fabrikam"), ("rita@fabrikam.example", "Rita Fabrikam"), ct),
            ProductLinesAsync(ct),
            HouseAccountAsync(admin, ct));
        await LeadRulesAsync(seeder, ct);
    }

    private async Task ProductLinesAsync(CancellationToken ct)
    {
        var existing = (await productLines.ListAsync(ct)).Select(l => l.Id).ToHashSet(StringComparer.Ordinal);
        await Task.WhenAll(ProductLines.Where(l => !existing.Contains(l.Id)).Select(line => productLines.CreateAsync(line, ct)));
    }

    private async Task HouseAccountAsync(StaffMember admin, CancellationToken ct)
    {
        var houseId = "hac_" + StaffId("woodgrovebank.example")[4..];
        if (await houseAccounts.GetAsync(houseId, ct) is null)
        {
            var key = Prm.Core.Deals.CustomerNormalizer.CompanyNameKey("Woodgrove Bank");
            await houseAccounts.SaveAsync(new Prm.Core.Deals.HouseAccount(houseId, "Woodgrove Bank", "woodgrovebank.example", key, Prm.Core.Deals.CustomerNormalizer.BlockingKeys(key), admin.DisplayName, DateTimeOffset.UtcNow), null, null, ct);
        }
    }

    /// <summary>
    /// The demo's lead routing: EMEA leads to Northwind, AMER leads to Fabrikam, and a weighted pick over all Active partners as the
    /// fallback (saved once: a section an admin saved is left alone). The demo partners join the routing index at once.
    /// </summary>
    private async Task LeadRulesAsync(Caller seeder, CancellationToken ct)
    {
        var northwind = await partners.FindByDomainAsync("northwind.example", ct);
        var fabrikam = await partners.FindByDomainAsync("fabrikam.example", ct);
        if (northwind is null || fabrikam is null) return;
        foreach (var id in new[] { northwind, fabrikam })
        {
            if ((await partners.GetAsync(id, ct))?.Value is { } p) await leadIndex.IndexPartnerAsync(PartnerDto.From(p), ct);
        }
        var current = await settings.ReadAsync(seeder, Prm.Core.Leads.LeadSettings.SectionName, ct);
        if (current.ETag != Prm.Core.Settings.ProgramSettings.DefaultsETag) return;
        var rules = new System.Text.Json.Nodes.JsonArray(
            Rule("EMEA leads to Northwind", "emea", northwind),
            Rule("AMER leads to Fabrikam", "amer", fabrikam),
            new System.Text.Json.Nodes.JsonObject { ["name"] = "Weighted over all Active partners", ["action"] = "weighted", ["scope"] = "all" });
        await settings.SaveAsync(seeder, Prm.Core.Leads.LeadSettings.SectionName, current.ETag, new System.Text.Json.Nodes.JsonObject { ["rules"] = rules }, ct);
    }

    private static System.Text.Json.Nodes.JsonObject Rule(string name, string region, string partnerId) => new()
    {
        ["name"] = name, ["when"] = new System.Text.Json.Nodes.JsonObject { ["regions"] = new System.Text.Json.Nodes.JsonArray(region) }, ["action"] = "partner", ["partnerId"] = partnerId,
    };

    /// <summary>The demo catalog deals are registered for.</summary>
    public static readonly IReadOnlyList<Prm.Core.Deals.ProductLine> ProductLines =
    [
        new("cloud-backup", "Cloud Backup", true),
        new("endpoint-security", "Endpoint Security", true),
        new("managed-network", "Managed Network", true),
        new("professional-services", "Professional Services", true),
    ];

    private async Task PartnerAsync(Caller seeder, string name, string domain, string country, string region, string tier, string channelManagerId,
        (string Email, string Name) partnerAdmin, (string Email, string Name) salesRep, CancellationToken ct)
    {
        if (await partners.FindByDomainAsync(domain, ct) is not null) return;
        var created = await directory.CreateAsync(seeder, new CreatePartnerRequest(name, domain, country, region, tier, "reseller", "Active",
            channelManagerId, $"https://www.{domain}", null, $"{name} is a demo partner.", null, new NewPartnerAdmin(partnerAdmin.Email, partnerAdmin.Name)), ct);
        await team.InviteAsync(seeder, created.Value.Id, new InviteUserRequest(salesRep.Email, salesRep.Name, "PartnerUser"), ct);
    }
}

/// <summary>Runs the demo seed at start-up, after the tables exist and before requests are served.</summary>
public sealed class DemoSeedRunner(DemoSeed seed) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => seed.RunAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
