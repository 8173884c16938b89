namespace Prm.Core.Deals;

/// <summary>
/// Curated, static suffix data for <see cref="CustomerNormalizer.RegistrableDomain"/>. It is deliberately not the full
/// Public Suffix List: conflict detection only needs the suffixes under which companies commonly register their domains.
/// </summary>
/// <remarks>
/// <para><b>Public suffixes</b> below which a company registers its own name (so <c>shop.acme.co.uk</c> belongs to
/// <c>acme.co.uk</c>): the commercial, organisational, academic and government second-level domains of the country
/// codes where such a level is in common use (United Kingdom, Australia, New Zealand, Japan, South Africa, Brazil, Mexico,
/// China, Singapore, Hong Kong, India, South Korea, Turkey, Argentina, Colombia, Peru, Uruguay, Taiwan, Malaysia,
/// the Philippines, Indonesia, Thailand, Vietnam, Pakistan, Egypt, Saudi Arabia, the United Arab Emirates, Israel,
/// Kenya, Nigeria, Ukraine, Poland, Austria, Hungary, Greece, Cyprus and Malta), and the multi-tenant hosting domains
/// whose sub-domains belong to different customers (<c>azurewebsites.net</c>, <c>github.io</c>, <c>myshopify.com</c>...).
/// Any other host falls back to its last two labels.</para>
/// <para><b>Mailbox providers</b>: free and ISP mail domains. An address there says nothing about the company the
/// contact works for, so it yields no customer domain.</para>
/// </remarks>
internal static class DomainSuffixes
{
    /// <summary>Suffixes of two or more labels below which each label is a separate registrant.</summary>
    public static readonly HashSet<string> Public = new(StringComparer.Ordinal)
    {
        // United Kingdom
        "co.uk", "org.uk", "ac.uk", "gov.uk", "ltd.uk", "plc.uk", "me.uk", "net.uk", "nhs.uk", "sch.uk", "police.uk",
        // Australia, New Zealand
        "com.au", "net.au", "org.au", "edu.au", "gov.au", "asn.au", "id.au",
        "co.nz", "net.nz", "org.nz", "ac.nz", "govt.nz", "school.nz",
        // Japan, South Korea, China, Hong Kong, Taiwan
        "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp", "ed.jp", "gr.jp",
        "co.kr", "ne.kr", "or.kr", "ac.kr", "go.kr",
        "com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn", "ac.cn",
        "com.hk", "net.hk", "org.hk", "edu.hk", "gov.hk",
        "com.tw", "net.tw", "org.tw", "edu.tw", "gov.tw",
        // South and South-East Asia
        "com.sg", "net.sg", "org.sg", "edu.sg", "gov.sg",
        "co.in", "net.in", "org.in", "firm.in", "gen.in", "ind.in", "ac.in", "edu.in", "gov.in",
        "com.my", "net.my", "org.my", "edu.my", "gov.my",
        "com.ph", "net.ph", "org.ph", "edu.ph", "gov.ph",
        "co.id", "or.id", "ac.id", "go.id", "web.id",
        "co.th", "in.th", "or.th", "ac.th", "go.th",
        "com.vn", "net.vn", "org.vn", "edu.vn", "gov.vn",
        "com.pk", "net.pk", "org.pk", "edu.pk", "gov.pk",
        // Africa and the Middle East
        "co.za", "org.za", "net.za", "ac.za", "gov.za", "web.za",
        "co.ke", "or.ke", "ac.ke", "go.ke",
        "com.ng", "org.ng", "edu.ng", "gov.ng",
        "com.eg", "org.eg", "edu.eg", "gov.eg",
        "com.sa", "net.sa", "org.sa", "edu.sa", "gov.sa",
        "co.ae", "net.ae", "org.ae", "ac.ae", "gov.ae",
        "co.il", "org.il", "net.il", "ac.il", "gov.il",
        "com.tr", "net.tr", "org.tr", "gen.tr", "biz.tr", "edu.tr", "gov.tr",
        // Latin America
        "com.br", "net.br", "org.br", "edu.br", "gov.br",
        "com.mx", "net.mx", "org.mx", "edu.mx", "gob.mx",
        "com.ar", "net.ar", "org.ar", "gob.ar",
        "com.co", "net.co", "org.co", "gov.co",
        "com.pe", "net.pe", "org.pe", "gob.pe",
        "com.uy", "org.uy", "gub.uy",
        // Europe
        "com.ua", "net.ua", "org.ua",
        "com.pl", "net.pl", "org.pl",
        "co.at", "or.at", "ac.at", "gv.at",
        "co.hu", "org.hu",
        "com.gr", "org.gr", "edu.gr", "gov.gr",
        "com.cy", "org.cy", "ac.cy", "gov.cy",
        "com.mt", "org.mt", "edu.mt", "gov.mt",
        // Multi-tenant hosting: each sub-domain is a different tenant
        "azurewebsites.net", "cloudapp.net", "azurestaticapps.net", "onmicrosoft.com", "sharepoint.com",
        "github.io", "gitlab.io", "herokuapp.com", "appspot.com", "web.app", "firebaseapp.com",
        "netlify.app", "vercel.app", "pages.dev", "workers.dev", "blogspot.com", "wordpress.com",
        "wixsite.com", "squarespace.com", "myshopify.com", "webflow.io", "carrd.co",
    };

    /// <summary>Free and ISP mailbox domains (registrable form): they identify no company.</summary>
    public static readonly HashSet<string> Mailbox = new(StringComparer.Ordinal)
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "hotmail.de",
        "live.com", "live.co.uk", "msn.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "yahoo.co.jp", "ymail.com",
        "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "pm.me", "tutanota.com", "zohomail.com",
        "gmx.com", "gmx.net", "gmx.de", "web.de", "t-online.de", "freenet.de", "mail.com", "mail.ru", "yandex.ru", "yandex.com",
        "orange.fr", "free.fr", "laposte.net", "sfr.fr", "wanadoo.fr", "libero.it", "virgilio.it", "btinternet.com",
        "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "bigpond.com", "qq.com", "163.com", "126.com", "naver.com",
    };
}
