using System.Text.Json;
using Azure.Data.Tables;
using Prm.Core.Approvals;
using Prm.Core.Common;

namespace Prm.Storage.Approvals;

/// <summary>Decision links as key rows ("approval:{token hash}"), one partition each.</summary>
public sealed class TableDecisionLinkStore(PrmTables tables) : IDecisionLinkStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Task CreateAsync(DecisionLink link, CancellationToken ct) =>
        tables.Keys.AddEntityAsync(new TableEntity(Key(link.TokenHash), "") { ["Body"] = JsonSerializer.Serialize(link, Json) }, ct);

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
