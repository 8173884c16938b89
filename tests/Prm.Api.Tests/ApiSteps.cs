using System.Net.Http.Json;
using System.Text.Json;
using Prm.Testing;

namespace Prm.Api.Tests;

/// <summary>Steps several tests share.</summary>
internal static class ApiSteps
{
    public static async Task<JsonElement> PartnerByNameAsync(ApiHost api, string name)
    {
        var admin = await api.ClientAsync(Demo.Admin);
        var list = await (await admin.GetAsync($"partners?search={Uri.EscapeDataString(name)}")).JsonAsync();
        return list.GetProperty("items").EnumerateArray().Single(p => p.Str("name") == name);
    }

    public static async Task<string> PartnerIdAsync(ApiHost api, string name) => (await PartnerByNameAsync(api, name)).Str("id");

    public static async Task<(JsonElement Body, string ETag)> GetWithETagAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        response.EnsureSuccessStatusCode();
        return (await response.JsonAsync(), response.Headers.ETag!.ToString());
    }

    public static async Task<JsonElement> UserByEmailAsync(HttpClient client, string partnerId, string email)
    {
        var users = await (await client.GetAsync($"partners/{partnerId}/users?limit=200")).JsonAsync();
        return users.GetProperty("items").EnumerateArray().Single(u => u.Str("email") == email);
    }

    public static HttpRequestMessage Patch(string url, object body, string? etag)
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, url) { Content = Responses.Json(body) };
        if (etag is not null) request.Headers.TryAddWithoutValidation("If-Match", etag);
        return request;
    }

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, int status)
    {
        ((int)response.StatusCode).Should().Be(status, await response.Content.ReadAsStringAsync());
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = await response.JsonAsync();
        problem.GetProperty("status").GetInt32().Should().Be(status);
        problem.GetProperty("traceId").GetString().Should().NotBeNullOrEmpty();
        return problem;
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, object body) => client.PostAsync(url, Responses.Json(body));
}
