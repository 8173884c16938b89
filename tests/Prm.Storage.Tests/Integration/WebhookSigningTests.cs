using Microsoft.AspNetCore.Http;
using Prm.Core.Integration;
using Prm.Storage.Integration;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace Prm.Storage.Tests.Integration;

/// <summary>Signatures as any Standard Webhooks receiver checks them: the current secret, and both during a rotation's overlap.</summary>
public sealed class WebhookSigningTests
{
    private static HeaderDictionary Headers(string id, DateTimeOffset at, string signature) => new()
    {
        ["webhook-id"] = id,
        ["webhook-timestamp"] = at.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["webhook-signature"] = signature,
    };

    [Fact]
    public void A_receiver_with_either_secret_verifies_a_request_signed_during_the_overlap()
    {
        var current = WebhookRules.NewSecret();
        var previous = WebhookRules.NewSecret();
        var now = DateTimeOffset.UtcNow;
        const string body = """{"id":"evt_1"}""";

        var signature = WebhookDeliverer.Sign([previous, current], "evt_1", now, body);

        var entries = signature.Split(' ');
        entries.Should().HaveCount(2).And.OnlyContain(s => s.StartsWith("v1,"));
        // Any Standard Webhooks receiver accepts a header in which one signature matches; the served .NET library checks the first only,
        // so each entry is checked on its own here, and the full header with the previous secret (a receiver that has not switched yet).
        new StandardWebhook(previous).Invoking(w => w.Verify(body, Headers("evt_1", now, signature))).Should().NotThrow();
        new StandardWebhook(previous).Invoking(w => w.Verify(body, Headers("evt_1", now, entries[0]))).Should().NotThrow();
        new StandardWebhook(current).Invoking(w => w.Verify(body, Headers("evt_1", now, entries[1]))).Should().NotThrow();
        new StandardWebhook(WebhookRules.NewSecret()).Invoking(w => w.Verify(body, Headers("evt_1", now, signature))).Should().Throw<WebhookVerificationException>();
        new StandardWebhook(current).Invoking(w => w.Verify(body + " ", Headers("evt_1", now, entries[1]))).Should().Throw<WebhookVerificationException>("the body is signed");
        new StandardWebhook(current).Invoking(w => w.Verify(body, Headers("evt_1", now.AddMinutes(-6), entries[1]))).Should().Throw<WebhookVerificationException>("over 5 minutes old");
    }
}
