using System.Globalization;
using System.Text;
using Prm.Core.Common;

namespace Prm.Core.Deals;

/// <summary>
/// Turns what a partner typed about an end customer into comparable keys: the registrable domain, the company name key
/// and the blocking keys used to find candidate conflicts. Pure functions; every method returns null (or an empty list)
/// for input it cannot use rather than throwing.
/// </summary>
public static class CustomerNormalizer
{
    /// <summary>Longest company name key kept; longer input is cut (names are compared, never rebuilt, from the key).</summary>
    public const int MaxNameKeyLength = 120;

    /// <summary>Longest blocking key, prefix included.</summary>
    public const int MaxBlockingKeyLength = 18;

    private static readonly IdnMapping Idn = new();

    /// <summary>
    /// Normalizes everything the conflict engine compares. Null when neither the company name nor the domain is usable.
    /// </summary>
    /// <param name="companyName">The customer's company name as typed.</param>
    /// <param name="domainUrlOrEmail">A domain, a web address or a contact's email address.</param>
    /// <param name="country">ISO 3166-1 alpha-2 code (any case); dropped when it is not one.</param>
    /// <param name="productLineIds">Product line ids of the registration; trimmed, blanks and duplicates removed.</param>
    /// <param name="partnerId">The registering partner, when the customer belongs to a registration.</param>
    public static NormalizedCustomer? Normalize(string? companyName, string? domainUrlOrEmail, string? country = null,
        IEnumerable<string?>? productLineIds = null, string? partnerId = null)
    {
        var domain = RegistrableDomain(domainUrlOrEmail);
        var nameKey = CompanyNameKey(companyName);
        if (domain is null && nameKey is null) return null;
        var countryCode = country?.Trim().ToUpperInvariant();
        var products = (productLineIds ?? [])
            .Where(p => !string.IsNullOrWhiteSpace(p))
            .Select(p => p!.Trim())
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToArray();
        return new NormalizedCustomer(domain, nameKey, Text.IsCountryCode(countryCode) ? countryCode : null, products, BlockingKeys(nameKey))
        {
            PartnerId = string.IsNullOrWhiteSpace(partnerId) ? null : partnerId,
        };
    }

    /// <summary>
    /// The registrable domain (the part a company buys from a registrar) of a domain, a URL or an email address:
    /// scheme, user info, port, path, <c>www.</c> and sub-domains removed, e.g. <c>https://shop.acme.co.uk/x</c>,
    /// <c>jane@sales.acme.co.uk</c> and <c>acme.co.uk</c> all give <c>acme.co.uk</c>. Internationalized names are returned
    /// in their ASCII (punycode) form. Null when the input is not a domain, is itself a public suffix, or is a free or ISP
    /// mailbox provider such as gmail.com (it says nothing about the customer). The suffixes handled are documented on
    /// <c>DomainSuffixes</c>: a curated list of common multi-label public suffixes (co.uk, com.au, co.jp...) and
    /// multi-tenant hosting domains (azurewebsites.net, github.io...).
    /// </summary>
    public static string? RegistrableDomain(string? domainUrlOrEmail)
    {
        var host = Host(domainUrlOrEmail);
        if (host is null) return null;
        var labels = host.Split('.');
        string? registrable = null;
        for (var i = 0; i < labels.Length - 1; i++)
        {
            if (!DomainSuffixes.Public.Contains(string.Join('.', labels[(i + 1)..]))) continue;
            registrable = string.Join('.', labels[i..]);
            break;
        }
        if (registrable is null)
        {
            if (DomainSuffixes.Public.Contains(host)) return null;
            registrable = string.Join('.', labels[^2..]);
        }
        return DomainSuffixes.Mailbox.Contains(registrable) ? null : registrable;
    }

    private static string? Host(string? input)
    {
        if (string.IsNullOrWhiteSpace(input)) return null;
        var value = input.Trim();
        if (value.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase)) value = value[7..];
        var scheme = value.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0) value = value[(scheme + 3)..];
        var end = value.IndexOfAny(['/', '?', '#']);
        if (end >= 0) value = value[..end];
        var at = value.LastIndexOf('@');
        if (at >= 0) value = value[(at + 1)..];
        var port = value.IndexOf(':');
        if (port >= 0) value = value[..port];
        value = value.Trim().TrimEnd('.');
        if (value.Length == 0) return null;
        if (!value.All(char.IsAscii))
        {
            try { value = Idn.GetAscii(value); }
            catch (ArgumentException) { return null; }
        }
        return Text.NormalizeDomain(value);
    }

    /// <summary>
    /// Comparison key of a company name: lower case; diacritics removed (é → e, ü → u, ß → ss, æ → ae, ø → o);
    /// "&amp;" read as "and"; apostrophes and dots inside abbreviations dropped (S.p.A. → spa, McDonald's → mcdonalds);
    /// other punctuation turned into a space; a leading "The" and trailing legal forms removed (Inc, LLC, Ltd, GmbH, AG,
    /// SA, SAS, BV, plc, Pty, Corp, Co, Company, S.p.A., KK, "GmbH &amp; Co. KG", "Pty Ltd"... see <c>LegalForms</c>);
    /// tokens joined by single spaces. The key keeps letters and digits of any script, so it is safe inside a table key.
    /// Null when nothing usable remains. "The Acme Company Ltd", "ACME Corporation Inc." and "Acme Corp" all give "acme".
    /// </summary>
    public static string? CompanyNameKey(string? companyName)
    {
        if (string.IsNullOrWhiteSpace(companyName)) return null;
        var tokens = Tokens(companyName);
        if (tokens.Count == 0) return null;
        if (tokens.Count > 1 && tokens[0] == "the") tokens.RemoveAt(0);
        LegalForms.StripTrailing(tokens);
        if (tokens.Count == 0) return null;
        var key = string.Join(' ', tokens);
        return key.Length <= MaxNameKeyLength ? key : key[..MaxNameKeyLength].TrimEnd();
    }

    private static List<string> Tokens(string name)
    {
        var folded = new StringBuilder(name.Length + 8);
        foreach (var c in name)
        {
            folded.Append(c switch
            {
                'ß' => "ss",
                'æ' or 'Æ' => "ae",
                'œ' or 'Œ' => "oe",
                'ø' or 'Ø' => "o",
                'đ' or 'Đ' or 'ð' or 'Ð' => "d",
                'ł' or 'Ł' => "l",
                'þ' or 'Þ' => "th",
                'ı' => "i",
                '&' or '＆' => " and ",
                _ => c.ToString(),
            });
        }
        var decomposed = folded.ToString().Normalize(NormalizationForm.FormKD);
        var builder = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark) continue;
            if (char.IsLetterOrDigit(c)) builder.Append(char.ToLowerInvariant(c));
            else if (c is '\'' or '’' or '‘' or '`' or '´' or '.') continue;
            else builder.Append(' ');
        }
        return [.. builder.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries)];
    }

    /// <summary>
    /// One to three short keys under which a customer is filed for candidate lookup; two names that are likely the same
    /// company share at least one. From the name key (legal forms already removed), with the "head" being its first token
    /// (or its first two tokens when the first is a generic word such as "general" or "first", so common words do not make
    /// huge buckets), German transliteration folded (ae/oe/ue → a/o/u):
    /// <c>t-</c> + the head (at most 16 characters); <c>p-</c> + a Soundex-style phonetic code of the head (Latin
    /// letters only; groups Müller with Mueller); <c>j-</c> + the first 8 characters of the whole name without spaces (groups
    /// "Coca-Cola" with "CocaCola" and "Mc Donalds" with "McDonalds"). Keys contain only lower-case letters, digits and one
    /// hyphen, so they are safe in Azure Table keys. Empty for a null key.
    /// </summary>
    public static IReadOnlyList<string> BlockingKeys(string? nameKey)
    {
        if (string.IsNullOrWhiteSpace(nameKey)) return [];
        var tokens = nameKey.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(NameSimilarity.Fold).ToArray();
        if (tokens.Length == 0) return [];
        var head = tokens.Length > 1 && GenericHeads.Contains(tokens[0]) ? tokens[0] + tokens[1] : tokens[0];
        var keys = new List<string>(3) { "t-" + Cut(head, MaxBlockingKeyLength - 2) };
        var phonetic = Phonetic(head);
        if (phonetic is not null) keys.Add("p-" + phonetic);
        keys.Add("j-" + Cut(string.Concat(tokens), 8));
        return keys;
    }

    private static string Cut(string value, int length) => value.Length <= length ? value : value[..length];

    /// <summary>Words too common to file a company under on their own.</summary>
    private static readonly HashSet<string> GenericHeads = new(StringComparer.Ordinal)
    {
        "general", "first", "national", "international", "united", "american", "global", "new", "royal", "central",
        "universal", "standard", "premier", "pacific", "atlantic", "western", "eastern", "northern", "southern", "north",
        "south", "east", "west", "bank", "city", "state", "group", "the", "de", "la", "le", "el", "di", "van", "von", "st", "saint",
    };

    /// <summary>
    /// Soundex-style code, up to 8 characters: first letter, then digit classes of the following consonants, vowels
    /// separating repeats. Null when the head does not start with a Latin letter.
    /// </summary>
    internal static string? Phonetic(string head)
    {
        if (head.Length == 0 || !char.IsAsciiLetterLower(head[0])) return null;
        var code = new StringBuilder(8).Append(head[0]);
        var previous = SoundexClass(head[0]);
        foreach (var c in head.AsSpan(1))
        {
            if (code.Length == 8) break;
            var cls = SoundexClass(c);
            if (c is 'h' or 'w') continue;
            if (cls != '0' && cls != previous) code.Append(cls);
            previous = cls;
        }
        return code.ToString();
    }

    private static char SoundexClass(char c) => c switch
    {
        'b' or 'f' or 'p' or 'v' => '1',
        'c' or 'g' or 'j' or 'k' or 'q' or 's' or 'x' or 'z' => '2',
        'd' or 't' => '3',
        'l' => '4',
        'm' or 'n' => '5',
        'r' => '6',
        _ => '0',
    };
}
