using System.Net;
using Prm.Core.Outbox;
using SendGrid;
using SendGrid.Helpers.Mail;
using SendGrid.Helpers.Reliability;

namespace Prm.Storage.Outbox;

/// <summary>
/// The email sender when the SendGrid key is an unresolved Key Vault reference: every send fails clearly, as a transient failure, so
/// the outbox keeps the message and retries it (after the secret is set and the app restarted, it goes out) instead of sending the
/// reference to SendGrid as a key.
/// </summary>
public sealed class UnresolvedKeyEmailSender : IEmailSender
{
    public Task SendAsync(string messageId, EmailMessage email, CancellationToken ct) =>
        throw new TransientDeliveryException(SendGridOptions.UnresolvedReferenceProblem, TimeSpan.FromMinutes(5));
}

/// <summary>Sends email through SendGrid with the client's retries on; 429 and 5xx become transient failures the outbox retries later.</summary>
public sealed class SendGridEmailSender : IEmailSender
{
    private readonly SendGridClient client;
    private readonly SendGridOptions options;

    public SendGridEmailSender(SendGridOptions options, HttpClient? http = null)
    {
        this.options = options;
        var clientOptions = new SendGridClientOptions
        {
            ApiKey = options.ApiKey,
            ReliabilitySettings = new ReliabilitySettings(3, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(500)),
        };
        if (!string.IsNullOrWhiteSpace(options.Host)) clientOptions.Host = options.Host;
        client = http is null ? new SendGridClient(clientOptions) : new SendGridClient(http, clientOptions);
    }

    public async Task SendAsync(string messageId, EmailMessage email, CancellationToken ct)
    {
        Response response;
        try
        {
            response = await client.SendEmailAsync(ToMessage(messageId, email, options), ct);
        }
        catch (HttpRequestException ex)
        {
            // With ReliabilitySettings the client retries 5xx itself and then throws; the outbox retries later.
            throw new TransientDeliveryException($"SendGrid is unavailable: {ex.Message}", null, ex);
        }
        if (response.IsSuccessStatusCode) return;
        var body = await response.Body.ReadAsStringAsync(ct);
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            // SendGrid never retries 429 itself; honour its reset time.
            TimeSpan? wait = response.Headers.RetryAfter?.Delta;
            if (wait is null && response.Headers.TryGetValues("X-RateLimit-Reset", out var values)
                && long.TryParse(values.FirstOrDefault(), out var reset))
            {
                wait = DateTimeOffset.FromUnixTimeSeconds(reset) - DateTimeOffset.UtcNow;
            }
            throw new TransientDeliveryException("SendGrid throttled the request (429).", wait is { } w && w > TimeSpan.Zero ? w : TimeSpan.FromSeconds(60));
        }
        if ((int)response.StatusCode >= 500) throw new TransientDeliveryException($"SendGrid answered {(int)response.StatusCode}: {body}");
        throw new InvalidOperationException($"SendGrid refused the email ({(int)response.StatusCode}): {body}");
    }

    /// <summary>The SendGrid message: plain text and HTML, and the outbox id as a custom arg for tracing.</summary>
    public static SendGridMessage ToMessage(string messageId, EmailMessage email, SendGridOptions options)
    {
        var message = MailHelper.CreateSingleEmail(new EmailAddress(options.FromEmail, options.FromName), new EmailAddress(email.To, email.ToName), email.Subject, email.Text, email.Html);
        message.AddCustomArg("prmMessageId", messageId);
        // The request's correlation id follows the email into SendGrid's activity feed and event webhook (custom_args).
        if (Prm.Core.Common.Correlation.Id is { } correlation) message.AddCustomArg("prmCorrelationId", correlation);
        message.AddCategory(email.Template);
        // List-Unsubscribe and List-Unsubscribe-Post (RFC 8058) for the kinds one may turn off.
        if (email.Headers is { Count: > 0 } headers) message.AddHeaders(headers.ToDictionary(h => h.Key, h => h.Value));
        return message;
    }
}
