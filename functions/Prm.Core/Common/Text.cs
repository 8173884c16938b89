using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Prm.Core.Common;

/// <summary>Normalization of the strings that act as keys: emails, domains, names.</summary>
public static partial class Text
{
    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")]
    private static partial Regex DomainPattern();

    /// <summary>Lower-cased, trimmed email, or null when it is not an email address.</summary>
    public static string? NormalizeEmail(string? email)
    {
        if (string.IsNullOrWhiteSpace(email)) return null;
        var value = email.Trim().ToLowerInvariant();
        if (!EmailPattern().IsMatch(value) || value.Length > 254) return null;
        var domain = value[(value.LastIndexOf('@') + 1)..];
        return DomainPattern().IsMatch(domain) ? value : null;
    }

    /// <summary>Host name of a domain or URL (scheme, path, port and a leading www. removed), or null when it is not one.</summary>
    public static string? NormalizeDomain(string? domainOrUrl)
    {
        if (string.IsNullOrWhiteSpace(domainOrUrl)) return null;
        var value = domainOrUrl.Trim().ToLowerInvariant();
        var scheme = value.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0) value = value[(scheme + 3)..];
        var end = value.IndexOfAny(['/', '?', '#', ':']);
        if (end >= 0) value = value[..end];
        value = value.TrimEnd('.');
        if (value.StartsWith("www.", StringComparison.Ordinal)) value = value[4..];
        return DomainPattern().IsMatch(value) ? value : null;
    }

    /// <summary>Domain part of an email address.</summary>
    public static string EmailDomain(string normalizedEmail) => normalizedEmail[(normalizedEmail.IndexOf('@') + 1)..];

    /// <summary>Case- and accent-insensitive sort/search key for a display name, safe inside a table key.</summary>
    public static string NameKey(string name)
    {
        var decomposed = name.Trim().Normalize(NormalizationForm.FormD);
        var builder = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark) continue;
            if (c is '/' or '\\' or '#' or '?' or '|' || char.IsControl(c)) continue;
            builder.Append(char.ToLowerInvariant(c));
        }
        return builder.ToString();
    }

    /// <summary>camelCase text of an enum value (for non-status enums in API bodies).</summary>
    public static string Camel<TEnum>(TEnum value) where TEnum : struct, Enum
    {
        var text = value.ToString();
        return char.ToLowerInvariant(text[0]) + text[1..];
    }

    /// <summary>Parses an enum from its camelCase or PascalCase text; null when unknown.</summary>
    public static TEnum? ParseEnum<TEnum>(string? text) where TEnum : struct, Enum =>
        !string.IsNullOrEmpty(text) && text.All(char.IsAsciiLetter) && Enum.TryParse<TEnum>(text, ignoreCase: true, out var value) && Enum.IsDefined(value) ? value : null;

    /// <summary>The ISO 3166-1 alpha-2 country codes.</summary>
    public static bool IsCountryCode(string? code) => code is { Length: 2 } && CountryCodes.Contains(code);

    private static readonly HashSet<string> CountryCodes = new(StringComparer.Ordinal)
    {
        "AD","AE","AF","AG","AI","AL","AM","AO","AQ","AR","AS","AT","AU","AW","AX","AZ","BA","BB","BD","BE","BF","BG","BH","BI","BJ","BL","BM","BN","BO","BQ","BR","BS","BT","BV","BW","BY","BZ",
        "CA","CC","CD","CF","CG","CH","CI","CK","CL","CM","CN","CO","CR","CU","CV","CW","CX","CY","CZ","DE","DJ","DK","DM","DO","DZ","EC","EE","EG","EH","ER","ES","ET","FI","FJ","FK","FM","FO","FR",
        "GA","GB","GD","GE","GF","GG","GH","GI","GL","GM","GN","GP","GQ","GR","GS","GT","GU","GW","GY","HK","HM","HN","HR","HT","HU","ID","IE","IL","IM","IN","IO","IQ","IR","IS","IT","JE","JM","JO","JP",
        "KE","KG","KH","KI","KM","KN","KP","KR","KW","KY","KZ","LA","LB","LC","LI","LK","LR","LS","LT","LU","LV","LY","MA","MC","MD","ME","MF","MG","MH","MK","ML","MM","MN","MO","MP","MQ","MR","MS","MT","MU","MV","MW","MX","MY","MZ",
        "NA","NC","NE","NF","NG","NI","NL","NO","NP","NR","NU","NZ","OM","PA","PE","PF","PG","PH","PK","PL","PM","PN","PR","PS","PT","PW","PY","QA","RE","RO","RS","RU","RW",
        "SA","SB","SC","SD","SE","SG","SH","SI","SJ","SK","SL","SM","SN","SO","SR","SS","ST","SV","SX","SY","SZ","TC","TD","TF","TG","TH","TJ","TK","TL","TM","TN","TO","TR","TT","TV","TW","TZ",
        "UA","UG","UM","US","UY","UZ","VA","VC","VE","VG","VI","VN","VU","WF","WS","YE","YT","ZA","ZM","ZW",
    };
}
