using Prm.Core.Common;
using Prm.Core.Partners;

namespace Prm.Core.Onboarding;

/// <summary>Screening of an application: flags and duplicate matches for the reviewer, and a fit score with its reasons.</summary>
public static class ApplicationScreening
{
    /// <summary>Free-mail providers: never a company's own domain.</summary>
    public static readonly IReadOnlySet<string> FreeMailDomains = new HashSet<string>(StringComparer.Ordinal)
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com", "ymail.com", "icloud.com", "me.com",
        "aol.com", "gmx.de", "gmx.net", "web.de", "mail.com", "proton.me", "protonmail.com", "zoho.com", "yandex.ru", "yandex.com", "qq.com",
        "163.com", "126.com", "mail.ru", "free.fr", "orange.fr", "t-online.de", "libero.it", "seznam.cz", "wp.pl",
    };

    /// <summary>Disposable-address providers.</summary>
    public static readonly IReadOnlySet<string> DisposableDomains = new HashSet<string>(StringComparer.Ordinal)
    {
        "mailinator.com", "guerrillamail.com", "10minutemail.com", "tempmail.com", "temp-mail.org", "yopmail.com", "trashmail.com",
        "sharklasers.com", "getnada.com", "dispostable.com", "maildrop.cc", "throwawaymail.com", "fakeinbox.com", "mintemail.com",
    };

    /// <summary>Flags from the addresses alone.</summary>
    public static List<string> AddressFlags(string companyDomain, string applicantEmail)
    {
        var flags = new List<string>();
        var emailDomain = Text.EmailDomain(applicantEmail);
        if (FreeMailDomains.Contains(companyDomain) || FreeMailDomains.Contains(emailDomain)) flags.Add("freeMailDomain");
        if (DisposableDomains.Contains(companyDomain) || DisposableDomains.Contains(emailDomain)) flags.Add("disposableDomain");
        if (emailDomain != companyDomain && !emailDomain.EndsWith("." + companyDomain, StringComparison.Ordinal)) flags.Add("applicantEmailOutsideCompanyDomain");
        return flags;
    }

    /// <summary>The fit score (0-100) and why.</summary>
    public static (int Score, List<string> Reasons) Fit(OnboardingSettings rules, string country, PartnerType type, string? revenueBand)
    {
        var reasons = new List<string>();
        var score = 0;
        if (rules.TargetCountries.Contains(country))
        {
            score += rules.TargetCountryPoints;
            reasons.Add($"+{rules.TargetCountryPoints} target country {country}");
        }
        else
        {
            reasons.Add($"+0 {country} is not a target country");
        }
        var typeName = Text.Camel(type);
        var typePoints = rules.PartnerTypePoints.GetValueOrDefault(typeName);
        score += typePoints;
        reasons.Add($"+{typePoints} partner type {typeName}");
        if (revenueBand is not null && rules.RevenueBandPoints.TryGetValue(revenueBand, out var bandPoints))
        {
            score += bandPoints;
            reasons.Add($"+{bandPoints} expected annual revenue {revenueBand}");
        }
        return (Math.Clamp(score, 0, 100), reasons);
    }
}
