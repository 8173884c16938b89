using System.Text.Json;
using Azure.Data.Tables;
using Prm.Core.Approvals;
using Prm.Core.Common;

namespace Prm.Storage.Approvals;

/// <summary>Decision links as key rows ("approval:{token hash}"), one partition each.</summary>
public sealed class TableDecisionLinkStore(PrmTables tables) : IDecisionLinkStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Adds the link's row. A link's key is the hash of a fresh random token, so a row already there with the same body is this write's
    /// own: the storage client resends an insert whose answer was lost (a network timeout under load), and the resend meets the row the
    /// first send wrote (409). That is success; a different body under the key is a real conflict.
    /// </summary>
    public async Task CreateAsync(DecisionLink link, CancellationToken ct)
    {
        var body = JsonSerializer.Serialize(link, Json);
        try
        {
            await tables.Keys.AddEntityAsync(new TableEntity(Key(link.TokenHash), "") { ["Body"] = body }, ct);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 409)
        {
            var found = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(Key(link.TokenHash), "", cancellationToken: ct);
            if (found.HasValue && found.Value!.GetString("Body") == body) return;
            throw new ConflictException("A decision link with this token exists already.");
        }
    }

    public async Task<Versioned<DecisionLink>?> GetAsync(string tokenHash, CancellationToken ct)
    {
        var found = await tables.Keys.GetEntityIfExistsAsync<TableEntity>(Key(tokenHash), "", cancellationToken: ct);
        return found.HasValue ? new Versioned<DecisionLink>(JsonSerializer.Deserialize<DecisionLink>(found.Value!.GetString("Body"), Json)!, found.Value.ETag.ToString()) : null;
    }

    public async Task<string?> ReplaceAsync(DecisionLink link, string etag, CancellationToken ct)
    {
        try
        {
            var response = await tables.Keys.UpdateEntityAsync(new TableEntity(Key(link.TokenHash), "") { ["Body"] = JsonSerializer.Serialize(link, Json) }, new Azure.ETag(etag), TableUpdateMode.Replace, ct);
            return response.Headers.ETag?.ToString() ?? throw new InvalidOperationException("The table service returned no ETag for the decision link.");
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return null;
        }
    }

    private static string Key(string tokenHash) => "approval:" + tokenHash;
}
