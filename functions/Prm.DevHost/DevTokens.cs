using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Prm.DevHost;

/// <summary>
/// Development-only token issuer: signs JWTs with a local RSA key and makes the Microsoft.Identity.Web bearer handler trust that
/// key offline, so the production validation pipeline (signature, issuer, audience, lifetime, scp/roles) runs unchanged.
/// </summary>
public sealed class DevTokens(string tenantId, string audience)
{
    private readonly RsaSecurityKey key = new(RSA.Create(2048)) { KeyId = "prm-dev-" + Guid.NewGuid().ToString("N")[..8] };

    public string TenantId { get; } = tenantId;
    public string Audience { get; } = audience;
    public string Issuer => $"https://login.microsoftonline.com/{TenantId}/v2.0";

    /// <summary>A stable object id for a development user (derived from the email).</summary>
    public static string ObjectIdFor(string email) => new Guid(MD5.HashData(Encoding.UTF8.GetBytes(email.ToLowerInvariant()))).ToString();

    /// <summary>A token as Entra issues it; <paramref name="emailVerified"/> adds xms_edov (the email domain's owner verified it).</summary>
    /// <param name="scope">The delegated scopes (scp); null issues a token without scp, as an app-only token is.</param>
    public string Issue(string email, string name, IEnumerable<string> roles, TimeSpan? lifetime = null, string? objectId = null, bool emailVerified = true, string? scope = Prm.Core.Identity.AppRoles.ApiScope)
    {
        var claims = new Dictionary<string, object>
        {
            ["tid"] = TenantId,
            ["oid"] = objectId ?? ObjectIdFor(email),
            ["preferred_username"] = email,
            ["name"] = name,
            ["ver"] = "2.0",
        };
        if (scope is not null) claims["scp"] = scope;
        if (emailVerified) claims["xms_edov"] = true;
        var roleList = roles.ToArray();
        if (roleList.Length > 0) claims["roles"] = roleList;
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Claims = claims,
            IssuedAt = now,
            NotBefore = now.AddSeconds(-5),
            Expires = now + (lifetime ?? TimeSpan.FromHours(8)),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
        });
    }

    /// <summary>An app-only token as the client-credentials flow issues it: no scope, no person, the app role Prm.Integration.</summary>
    public string IssueApp(string appName, TimeSpan? lifetime = null)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Claims = new Dictionary<string, object>
            {
                ["tid"] = TenantId, ["oid"] = ObjectIdFor("app:" + appName), ["azp"] = ObjectIdFor("client:" + appName), ["idtyp"] = "app", ["ver"] = "2.0",
                ["app_displayname"] = appName, ["roles"] = new[] { Prm.Core.Identity.AppRoles.Integration },
            },
            IssuedAt = now,
            NotBefore = now.AddSeconds(-5),
            Expires = now + (lifetime ?? TimeSpan.FromHours(1)),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
        });
    }

    /// <summary>Points the bearer handler at the local key and issuer (no metadata download).</summary>
    public void Configure(JwtBearerOptions options)
    {
        var configuration = new OpenIdConnectConfiguration { Issuer = Issuer };
        configuration.SigningKeys.Add(key);
        options.Configuration = configuration;
        options.ConfigurationManager = null;
        options.TokenValidationParameters.IssuerValidator = null;
        options.TokenValidationParameters.ValidIssuer = Issuer;
        options.TokenValidationParameters.ValidAudiences = [Audience];
        options.TokenValidationParameters.IssuerSigningKey = key;
    }
}

internal sealed class DevTokensJwtSetup(DevTokens tokens) : IPostConfigureOptions<JwtBearerOptions>
{
    public void PostConfigure(string? name, JwtBearerOptions options) => tokens.Configure(options);
}
