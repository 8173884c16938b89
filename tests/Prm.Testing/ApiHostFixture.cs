using Xunit;
namespace Prm.Testing;

/// <summary>xUnit class fixture: one local host (own tables, seeded demo program) per test class.</summary>
public class ApiHostFixture : IAsyncLifetime
{
    public ApiHost Api { get; protected set; } = null!;

    public virtual async Task InitializeAsync() => Api = await ApiHost.StartAsync();

    public async Task DisposeAsync()
    {
        if (Api is not null) await Api.DisposeAsync();
    }
}

/// <summary>The seeded demo people.</summary>
public static class Demo
{
    public const string Admin = "admin@vendor.example";
    public const string CmEmea = "cm.emea@vendor.example";
    public const string CmAmer = "cm.amer@vendor.example";
    public const string NorthwindAdmin = "anna@northwind.example";
    public const string NorthwindRep = "sam@northwind.example";
    public const string FabrikamAdmin = "frank@fabrikam.example";
    public const string FabrikamRep = "rita@fabrikam.example";
}
