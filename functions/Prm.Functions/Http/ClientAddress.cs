using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;

namespace Prm.Functions.Http;

/// <summary>Where requests come through (section "Http").</summary>
public sealed class ForwardingOptions
{
    public const string SectionName = "Http";

    /// <summary>
    /// How many proxies in front of the app append to X-Forwarded-For (the Azure Functions front end: 1). 0 trusts no header: the
    /// connection's address is the client (a host not behind a proxy, like the local host).
    /// </summary>
    public int TrustedProxyHops { get; set; }
}

/// <summary>
/// The client's address, the one place for it: with N trusted proxy hops, the N-th X-Forwarded-For entry from the right (entries left of
/// it are the client's own claims and can be forged); with none, the connection's address. Ports are dropped, IPv4-mapped IPv6 is IPv4,
/// and for rate limits an IPv6 client is its /64 (one subscriber's network, not each of its addresses).
/// </summary>
public static class ClientAddress
{
    /// <summary>The client's address, normalized; null when it cannot be told.</summary>
    public static IPAddress? Of(HttpRequest request, ForwardingOptions forwarding)
    {
        if (forwarding.TrustedProxyHops > 0)
        {
            var entries = request.Headers["X-Forwarded-For"].ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (entries.Length >= forwarding.TrustedProxyHops) return Parse(entries[^forwarding.TrustedProxyHops]);
        }
        var remote = request.HttpContext.Connection.RemoteIpAddress;
        return remote is null ? null : Normalize(remote);
    }

    /// <summary>The key a rate limit counts by: an IPv4 address, or an IPv6 /64 network.</summary>
    public static string? RateLimitKey(IPAddress? address)
    {
        if (address is null) return null;
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address.ToString();
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>An address as a forwarding header writes it: "1.2.3.4", "1.2.3.4:5678", "2001:db8::1", "[2001:db8::1]:443".</summary>
    public static IPAddress? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var value = text.Trim().Trim('"');
        if (value.StartsWith('[') && value.IndexOf(']') is var close and > 0) value = value[1..close];
        else if (value.Count(c => c == ':') == 1) value = value[..value.IndexOf(':')];
        return IPAddress.TryParse(value, out var address) ? Normalize(address) : null;
    }

    private static IPAddress Normalize(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0) return new IPAddress(address.GetAddressBytes());
        return address;
    }
}
