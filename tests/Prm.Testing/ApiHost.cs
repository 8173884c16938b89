using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Prm.DevHost;
using Prm.Functions.Http;
using Prm.Storage;

namespace Prm.Testing;

/// <summary>The local host running in-process on a random port against the test Azurite, with its own tables and the demo seed.</summary>
public sealed class ApiHost : IAsyncDisposable
{
    private readonly Dictionary<string, string> tokens = new(StringComparer.OrdinalIgnoreCase);

    private readonly Lazy<Task<OpenApiContract>> contract;

    private readonly bool checkResponses;

    /// <summary>The Azurite started for this host alone (<c>ownStorage</c>), stopped with it.</summary>
    private Azurite? ownAzurite;

    private ApiHost(LocalHost host, ServerErrors errors, bool checkResponses)
    {
        this.checkResponses = checkResponses;
        Host = host;
        Errors = errors;
        var baseAddress = new Uri(host.BaseUrl.TrimEnd('/') + "/");
        contract = new Lazy<Task<OpenApiContract>>(() => OpenApiContract.LoadAsync(baseAddress));
        Anonymous = NewClient(baseAddress);
    }

    /// <summary>The served OpenAPI document (loaded once per host) that every client of this host checks its responses against.</summary>
    public Task<OpenApiContract> ContractAsync() => contract.Value;

    /// <summary>
    /// A client whose responses are checked against the OpenAPI document (<see cref="ContractValidatingHandler"/>), unless the host was
    /// started without checks (the benchmarks: a check costs the client milliseconds of CPU that a timing would count as the server's).
    /// </summary>
    private HttpClient NewClient(Uri baseAddress) => checkResponses
        ? new(new ContractValidatingHandler(ContractAsync, Errors)) { BaseAddress = baseAddress }
        : new(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = baseAddress };

    /// <summary>The errors the host logged (a 500 a client receives fails with them).</summary>
    public ServerErrors Errors { get; }

    public LocalHost Host { get; }

    /// <summary>A client without a token (responses checked against the OpenAPI document, like every client of the host).</summary>
    public HttpClient Anonymous { get; }

    /// <summary>
    /// Waits until the workflow instance exists and has finished (completed, failed or terminated), and returns its status: after that
    /// it sends nothing more, so a test can count what it sent without sleeping. Fails with the last status when the deadline passes.
    /// </summary>
    public async Task<Microsoft.DurableTask.Client.OrchestrationRuntimeStatus> WorkflowFinishedAsync(string instanceId, TimeSpan? timeout = null)
    {
        var client = Services.GetRequiredService<Microsoft.DurableTask.Client.DurableTaskClient>();
        var state = await WithWorkflowDiagnosticsAsync(instanceId, () => Responses.EventuallyAsync(() => client.GetInstanceAsync(instanceId, getInputsAndOutputs: false),
            s => s is { IsCompleted: true }, timeout ?? TimeSpan.FromSeconds(120)));
        return state!.RuntimeStatus;
    }

    /// <summary>
    /// Waits until the running generation of a workflow instance has an input that satisfies <paramref name="done"/> (a generation that
    /// continued as new carries its new deadlines there): a test sees that a timer moved without waiting for the old one's time.
    /// </summary>
    public async Task<System.Text.Json.JsonElement> WorkflowInputAsync(string instanceId, Func<System.Text.Json.JsonElement, bool> done, TimeSpan? timeout = null)
    {
        var client = Services.GetRequiredService<Microsoft.DurableTask.Client.DurableTaskClient>();
        var input = await WithWorkflowDiagnosticsAsync(instanceId, () => Responses.EventuallyAsync(async () =>
            {
                var state = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true);
                return state is { RuntimeStatus: Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Running or Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Pending, SerializedInput: { } json }
                    ? System.Text.Json.JsonDocument.Parse(json).RootElement.Clone() : default;
            },
            i => i.ValueKind == System.Text.Json.JsonValueKind.Object && done(i), timeout ?? TimeSpan.FromSeconds(300))); // 120 s passed once, at a load average of 29
        return input;
    }

    /// <summary>A wait on what a workflow does that times out fails with where the workflow stands (<see cref="WorkflowDiagnosticsAsync"/>).</summary>
    public async Task<T> WithWorkflowDiagnosticsAsync<T>(string instanceId, Func<Task<T>> wait)
    {
        try
        {
            return await wait();
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException(ex.Message + Environment.NewLine + await WorkflowDiagnosticsAsync(instanceId), ex);
        }
    }

    /// <summary>
    /// Where a workflow stands, for a test that waited on it in vain: its status, the event types of its stored history (an external
    /// event it was raised and took shows as EventRaised), the messages waiting on the task hub's control queue (one it was raised and
    /// has not taken yet) and the outbox messages still pending (one no delivery has sent yet). Read straight from storage; a part that
    /// cannot be read says why instead.
    /// </summary>
    public async Task<string> WorkflowDiagnosticsAsync(string instanceId)
    {
        var text = new System.Text.StringBuilder($"Workflow {instanceId}:");
        var config = Services.GetRequiredService<IConfiguration>();
        var connection = config["Storage:ConnectionString"];
        var hub = config["LocalHost:TaskHub"] ?? "PrmLocalHub";
        async Task Part(string name, Func<Task<string>> read)
        {
            try
            {
                text.Append(Environment.NewLine).Append("  ").Append(name).Append(": ").Append(await read());
            }
            catch (Exception ex)
            {
                text.Append(Environment.NewLine).Append("  ").Append(name).Append(": not read (").Append(ex.GetType().Name).Append(": ").Append(ex.Message).Append(')');
            }
        }
        await Part("status", async () =>
        {
            var state = await Services.GetRequiredService<Microsoft.DurableTask.Client.DurableTaskClient>().GetInstanceAsync(instanceId, getInputsAndOutputs: false);
            return state is null ? "none" : $"{state.RuntimeStatus}, last updated {state.LastUpdatedAt:O}";
        });
        await Part("history", async () =>
        {
            var history = new Azure.Data.Tables.TableClient(connection, hub + "History");
            var events = new List<string>();
            await foreach (var row in history.QueryAsync<Azure.Data.Tables.TableEntity>(Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {instanceId}"),
                select: ["EventType", "Name", "ExecutionId", "Timestamp"]))
            {
                if (string.IsNullOrEmpty(row.GetString("EventType"))) continue; // the instance's sentinel row
                var name = row.GetString("Name");
                var execution = row.GetString("ExecutionId") ?? "";
                events.Add($"{row.GetString("EventType")}{(string.IsNullOrEmpty(name) ? "" : "(" + name + ")")}@{execution[..Math.Min(8, execution.Length)]} {row.Timestamp:HH:mm:ss.fff}");
            }
            return events.Count == 0 ? "no rows" : string.Join(", ", events.TakeLast(40));
        });
        await Part("control queue", async () =>
        {
            var queue = new Azure.Storage.Queues.QueueClient(connection, hub.ToLowerInvariant() + "-control-00");
            var peeked = (await queue.PeekMessagesAsync(32)).Value;
            var mine = peeked.Select(m => m.Body.ToString()).Where(b => b.Contains(instanceId, StringComparison.Ordinal))
                .Select(b => System.Text.RegularExpressions.Regex.Match(b, @"History\.(\w+)").Groups[1].Value).ToList();
            var all = (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount; // with those taken and not yet finished
            return $"{all} messages, {peeked.Length} visible (32 read at most), {mine.Count} of them for this instance: {string.Join(", ", mine)}";
        });
        await Part("outbox pending", async () =>
        {
            var pending = new List<string>();
            await foreach (var row in Services.GetRequiredService<PrmTables>().OutboxPending.QueryAsync<Azure.Data.Tables.TableEntity>(maxPerPage: 50))
            {
                pending.Add($"{row.GetString("Table")}/{row.GetString("Partition")}/{row.GetString("MessageId")} created {row.GetDateTimeOffset("CreatedAt"):HH:mm:ss.fff}");
                if (pending.Count == 20) break;
            }
            return pending.Count == 0 ? "none" : string.Join("; ", pending);
        });
        await Part("Durable worker warnings", () => Task.FromResult(Errors.DurableWarnings() is { Count: > 0 } warnings ? string.Join(" | ", warnings) : "none"));
        return text.ToString();
    }

    public IServiceProvider Services => Host.Services;

    /// <param name="configure">Runs after the test settings are added (e.g. to add a logger provider).</param>
    /// <param name="checkResponses">Whether the host's clients check every response against the OpenAPI document (tests: always).</param>
    /// <param name="ownStorage">
    /// An Azurite for this host alone instead of the test process's shared one: for a test whose load (the 10,000-row import and its
    /// 10,000 invitation workflows) would queue every other test class's storage calls behind its own in the one emulator process.
    /// </param>
    public static async Task<ApiHost> StartAsync(IDictionary<string, string?>? settings = null, string environment = "Development", Action<WebApplicationBuilder>? configure = null, bool checkResponses = true,
        bool ownStorage = false)
    {
        Azurite? own = null;
        if (ownStorage)
        {
            var (blob, queue, table) = Azurite.FreePorts();
            own = await Azurite.StartAsync(blob, queue, table, location: null, listenWithin: TimeSpan.FromSeconds(300), exitWithParent: true);
        }
        try
        {
            var host = await StartOnAsync(own is null ? await TestAzurite.FreshStorageAsync() : new StorageOptions { ConnectionString = own.ConnectionString, TablePrefix = "own" },
                settings, environment, configure, checkResponses);
            host.ownAzurite = own;
            return host;
        }
        catch
        {
            if (own is not null) await own.DisposeAsync();
            throw;
        }
    }

    private static async Task<ApiHost> StartOnAsync(StorageOptions storage, IDictionary<string, string?>? settings, string environment, Action<WebApplicationBuilder>? configure, bool checkResponses)
    {
        var errors = new ServerErrors();
        var host = await LocalHost.StartAsync([], builder =>
        {
            builder.Logging.Services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(errors);
            var values = new Dictionary<string, string?>
            {
                ["LocalHost:Url"] = "http://127.0.0.1:0",
                ["Storage:ConnectionString"] = storage.ConnectionString,
                ["Storage:TablePrefix"] = storage.TablePrefix,
                ["LocalHost:TaskHub"] = "hub" + storage.TablePrefix,
                ["Outbox:SweepSeconds"] = "1",
                ["Outbox:PointerGraceSeconds"] = "2",
                ["Outbox:InProcessGraceSeconds"] = "2",
                ["Webhooks:SweepSeconds"] = "1",
                ["Webhooks:FirstBackoffSeconds"] = "1",
                ["Prm:MembershipCacheSeconds"] = "30",
                ["Logging:LogLevel:Default"] = "Warning",
                // No exporter: a test that looks at traces or metrics adds an in-memory one (TelemetryTests).
                ["Telemetry:Exporter"] = "none",
                // The tests play the client behind one front end (as in Azure): X-Forwarded-For's last entry is the client.
                ["Http:TrustedProxyHops"] = "1",
            };
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) values[key] = value;
            builder.Configuration.AddInMemoryCollection(values);
            configure?.Invoke(builder);
        }, log: _ => { }, environment: environment);
        return new ApiHost(host, errors, checkResponses);
    }

    /// <summary>A development token for a seeded or invited user, from POST /api/dev/token.</summary>
    public async Task<string> TokenAsync(string email)
    {
        if (tokens.TryGetValue(email, out var cached)) return cached;
        var response = await Anonymous.PostAsJsonAsync("dev/token", new { email });
        response.EnsureSuccessStatusCode();
        var token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
        tokens[email] = token;
        return token;
    }

    /// <summary>A client signed in as the user with that email.</summary>
    public async Task<HttpClient> ClientAsync(string email) => WithToken(await TokenAsync(email));

    /// <summary>A client presenting any token (also invalid ones).</summary>
    public HttpClient WithToken(string token)
    {
        var client = NewClient(Anonymous.BaseAddress!);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Issues a token directly with the development key, for identities the seed does not have.</summary>
    public string IssueToken(string email, string name, params string[] roles) => Services.GetRequiredService<DevTokens>().Issue(email, name, roles);

    /// <summary>A token whose email claim is not verified (xms_edov absent), for a given object id.</summary>
    public string IssueUnverifiedToken(string email, string name, string objectId) =>
        Services.GetRequiredService<DevTokens>().Issue(email, name, [], objectId: objectId, emailVerified: false);

    public async ValueTask DisposeAsync()
    {
        Anonymous.Dispose();
        try
        {
            await Host.DisposeAsync();
        }
        finally
        {
            if (ownAzurite is not null) await ownAzurite.DisposeAsync();
        }
    }
}

/// <summary>Reading API responses in tests.</summary>
public static class Responses
{
    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(string.IsNullOrEmpty(text) ? "null" : text).RootElement.Clone();
    }

    public static string Str(this JsonElement e, string name) => e.GetProperty(name).GetString()!;

    public static string? StorageCalls(this HttpResponseMessage response) =>
        response.Headers.TryGetValues(LocalHost.StorageCallsHeader, out var values) ? values.First() : null;

    public static StringContent Json(object value) => new(JsonSerializer.Serialize(value, ApiJson.Options), System.Text.Encoding.UTF8, "application/json");

    /// <summary>
    /// Reads until <paramref name="done"/> holds and returns that value; when the deadline passes first, the test fails with what it last
    /// read (a wait that times out never passes quietly). The default deadline, 120 s, is for outcomes that ride on the outbox and the
    /// workflows: a machine running a second suite copy beside this one has seen them take a minute.
    /// </summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(120);
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The awaited condition did not hold within {limit.TotalSeconds:0.#} s. Last value read: {Describe(value)}");
            }
            await Task.Delay(200);
        }
    }

    private static string Describe<T>(T value)
    {
        var text = value switch
        {
            null => "null",
            System.Text.Json.JsonElement json => json.GetRawText(),
            _ => value.ToString() ?? "",
        };
        return text.Length > 4000 ? text[..4000] + "…" : text;
    }
}
