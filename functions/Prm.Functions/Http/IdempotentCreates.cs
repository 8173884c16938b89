using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http;
using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Functions.OpenApi;
using Prm.Storage;
using Prm.Storage.Leads;

namespace Prm.Functions.Http;

/// <summary>
/// Idempotency-Key on every create (a POST answering 201 with JSON) whose use case does not take the key itself (deals, fund requests and
/// applications do: their ids follow from it). The key is the caller's and the function's: a key row holds the request body's hash and,
/// once the create answered, its status, ETag, Location and body, so a retry with the same key and body gets that answer again
/// (<c>Idempotent-Replayed: true</c>) and creates nothing. The same key with another body is 422; while the first request still runs a
/// retry is 409; a failed create gives the key back. Keys live 24 hours. One place for every create route, in every host.
/// </summary>
public sealed class IdempotentCreates(PrmTables tables, TimeProvider clock)
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    internal static readonly object PendingKey = new();

    /// <summary>How long a key is kept; a key older than this is a new key.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    /// <summary>How long a request holding a key counts as running; after that (a host that died mid-request) a retry takes the key over.</summary>
    public static readonly TimeSpan RunningFor = TimeSpan.FromSeconds(60);

    private const int MaxBodyBytes = 16 * 1024 * 1024;

    /// <summary>Whether the gate handles Idempotency-Key for the function (the OpenAPI document declares the header for exactly these).</summary>
    public static bool Applies(HttpFunction function) =>
        function.Methods.Contains("POST") && function.Method.GetCustomAttribute<ApiOperationAttribute>() is { Status: 201 } info
        && info.ResponseContentType == "application/json" && !info.Headers.Contains(Header, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Before the create runs: true when the request goes on (with its key claimed, or without a key), false when the answer was written
    /// here (the stored answer replayed).
    /// </summary>
    public async Task<bool> BeginAsync(HttpContext context, HttpFunction function, Caller caller)
    {
        if (!Applies(function) || !context.Request.Headers.TryGetValue(Header, out var values)) return true;
        var key = values.ToString();
        if (key.Length is 0 or > 200 || values.Count != 1) throw new ValidationFailedException(Header, "The Idempotency-Key header takes 1 to 200 characters, once.");
        if (context.Request.ContentLength > MaxBodyBytes) return true; // refused by the create itself
        var bodyHash = await BodyHashAsync(context.Request);
        var partition = "idem|" + Hash(caller.UserId + "|" + function.Name + "|" + key);
        var ct = context.RequestAborted;
        string? written = null;
        // The row this request wrote in an attempt before, met by the storage client's resend of that write after its answer was lost:
        // the key is this request's.
        bool TakeOwn(Azure.NullableResponse<TableEntity> row)
        {
            if (!(row.HasValue && written is not null && row.Value!.GetString("Claim") == written && row.Value.GetString("State") == "Running")) return false;
            context.Items[PendingKey] = new IdempotencyClaim(tables.Keys, partition, row.Value.ETag, row.Value.GetDateTimeOffset("StartedAt") ?? clock.GetUtcNow(), bodyHash, function.Name, written);
            return true;
        }
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var now = clock.GetUtcNow();
            var claim = Guid.NewGuid().ToString("N");
            var pending = new TableEntity(partition, "") { ["State"] = "Running", ["BodyHash"] = bodyHash, ["StartedAt"] = now, ["Function"] = function.Name, ["Claim"] = claim };
            var found = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(partition, "", cancellationToken: ct);
            if (TakeOwn(found)) return true;
            written = claim;
            try
            {
                if (!found.HasValue)
                {
                    var added = await tables.Keys.AddEntityAsync(pending, ct);
                    context.Items[PendingKey] = new IdempotencyClaim(tables.Keys, partition, added.Headers.ETag!.Value, now, bodyHash, function.Name, claim);
                    return true;
                }
                var row = found.Value!;
                var started = row.GetDateTimeOffset("StartedAt") ?? DateTimeOffset.MinValue;
                var expired = now - started > Lifetime;
                if (!expired && row.GetString("BodyHash") != bodyHash)
                    throw new ValidationFailedException(Header, "This Idempotency-Key was used with another request body; use a new key for a new request.", unprocessable: true);
                if (!expired && row.GetString("State") == "Done")
                {
                    await ReplayAsync(context, row);
                    return false;
                }
                if (!expired && now - started < RunningFor)
                    throw new ConflictException("A request with this Idempotency-Key is still running; retry in a few seconds.", Header);
                var taken = await tables.Keys.UpdateEntityAsync(pending, row.ETag, TableUpdateMode.Replace, ct);
                context.Items[PendingKey] = new IdempotencyClaim(tables.Keys, partition, taken.Headers.ETag!.Value, now, bodyHash, function.Name, claim);
                return true;
            }
            catch (Azure.RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                // Another retry claimed or finished the key meanwhile, or this write's own resend met it: look again.
            }
        }
        // The last attempt's write may have gone through with its answer lost too.
        if (TakeOwn(await tables.Keys.GetEntityIfExistsAsync<TableEntity>(partition, "", cancellationToken: ct))) return true;
        throw new ConflictException("A request with this Idempotency-Key is still running; retry in a few seconds.", Header);
    }

    /// <summary>A create that failed gives its key back, so the client can retry with it.</summary>
    public static async Task ReleaseAsync(HttpContext context)
    {
        if (context.Items.Remove(PendingKey, out var claim) && claim is IdempotencyClaim c) await c.ReleaseAsync();
    }

    private static async Task ReplayAsync(HttpContext context, TableEntity row)
    {
        var response = context.Response;
        response.StatusCode = row.GetInt32("Status") ?? 201;
        if (row.GetString("ETag") is { } etag) response.Headers.ETag = etag;
        if (row.GetString("Location") is { } location) response.Headers.Location = location;
        response.Headers[ReplayedHeader] = "true";
        var body = ChunkedText.Read(row, "Body");
        if (body.Length == 0) return;
        response.ContentType = row.GetString("ContentType") ?? "application/json; charset=utf-8";
        await response.WriteAsync(body, context.RequestAborted);
    }

    private static async Task<string> BodyHashAsync(HttpRequest request)
    {
        request.EnableBuffering();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await request.Body.ReadAsync(buffer, request.HttpContext.RequestAborted)) > 0)
        {
            total += read;
            if (total > MaxBodyBytes) break;
            sha.AppendData(buffer, 0, read);
        }
        request.Body.Position = 0;
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

/// <summary>A claimed Idempotency-Key of a running create: completed with the answer, or released when the create fails.</summary>
public sealed class IdempotencyClaim(TableClient keys, string partition, Azure.ETag etag, DateTimeOffset startedAt, string bodyHash, string function, string claim)
{
    /// <summary>Stores the answer (before it is written, so a retry that sees it gets exactly this answer).</summary>
    public async Task CompleteAsync(int status, string? etagHeader, string? location, string contentType, string body, CancellationToken ct)
    {
        var row = new TableEntity(partition, "")
        {
            ["State"] = "Done", ["StartedAt"] = startedAt, ["Status"] = status, ["ETag"] = etagHeader, ["Location"] = location, ["ContentType"] = contentType,
            ["BodyHash"] = bodyHash, ["Function"] = function, ["Claim"] = claim,
        };
        ChunkedText.Write(row, "Body", body);
        try
        {
            await keys.UpdateEntityAsync(row, etag, TableUpdateMode.Replace, ct);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 412)
        {
            // Stored already when this is the storage client's resend of the write (its answer lost): the row is Done with this claim.
            var stored = await keys.GetEntityIfExistsAsync<TableEntity>(partition, "", ["State", "Claim"], ct);
            if (!(stored.HasValue && stored.Value!.GetString("State") == "Done" && stored.Value.GetString("Claim") == claim)) throw;
        }
    }

    public async Task ReleaseAsync()
    {
        try
        {
            await keys.DeleteEntityAsync(partition, "", etag, CancellationToken.None);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // Taken over by a retry after the running window: it is that retry's now.
        }
    }
}
