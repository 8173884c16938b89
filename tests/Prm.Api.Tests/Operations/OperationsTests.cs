using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Identity;
using Prm.Functions.Http;
using Prm.Storage.Outbox;
using Prm.Testing;

namespace Prm.Api.Tests.Operations;

/// <summary>A host whose outbox parks a message after three failed attempts, so a dead letter appears within seconds.</summary>
public sealed class OperationsHostFixture : ApiHostFixture
{
    public override async Task InitializeAsync() => Api = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Outbox:MaxAttempts"] = "3" });
}

/// <summary>
/// The operations API end to end: a message the broker refuses becomes dead, an operator finds it, sees the backlog in the detailed
/// health, and puts it back; a record's workflow is shown, terminated and restarted from the record's state; only admins get in.
/// </summary>
public sealed class OperationsTests(OperationsHostFixture fixture) : IClassFixture<OperationsHostFixture>
{
    private ApiHost Api => fixture.Api;

    private static async Task<List<JsonElement>> OutboxAsync(HttpClient admin, string status = "Dead")
    {
        var response = await admin.GetAsync($"ops/outbox?status={status}&limit=200");
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.JsonAsync()).GetProperty("items").EnumerateArray().ToList();
    }

    [Fact]
    public async Task A_message_the_broker_keeps_refusing_becomes_dead_and_an_operator_finds_it_and_puts_it_back()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var sink = Api.Services.GetRequiredService<DevEventSink>();
        var marker = "Deadletter " + Guid.NewGuid().ToString("N")[..8];
        sink.Refuse = e => e.Data.GetRawText().Contains(marker, StringComparison.Ordinal);
        try
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "partners")
            {
                Content = Responses.Json(new { name = marker, domain = $"dead-{Guid.NewGuid():N}"[..20] + ".example", country = "DE", region = "emea", tier = "silver", partnerType = "reseller", status = "Active" }),
            };
            request.Headers.Add(RequestGate.CorrelationHeader, "ops-test-" + marker.Replace(' ', '-'));
            var created = await admin.SendAsync(request);
            created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
            var partnerId = (await created.JsonAsync()).Str("id");

            // While it is retried it is pending: the oldest messages list shows it with its failed attempts.
            var pending = await Responses.EventuallyAsync(() => OutboxAsync(admin, "Pending"),
                items => items.Any(m => m.Str("subject") == $"partners/{partnerId}" && m.GetProperty("attempts").GetInt32() >= 1), TimeSpan.FromSeconds(30));
            pending.First(m => m.Str("subject") == $"partners/{partnerId}").Str("status").Should().Be("Pending");

            var dead = (await Responses.EventuallyAsync(() => OutboxAsync(admin), items => items.Any(m => m.Str("subject") == $"partners/{partnerId}"), TimeSpan.FromSeconds(180)))
                .Single(m => m.Str("subject") == $"partners/{partnerId}");
            dead.Str("status").Should().Be("Dead");
            dead.Str("type").Should().Be("partner.created");
            dead.Str("kind").Should().Be("event");
            dead.GetProperty("attempts").GetInt32().Should().Be(3);
            dead.Str("lastError").Should().Contain("fault injection");
            dead.Str("correlationId").Should().Be("ops-test-" + marker.Replace(' ', '-'), "the request's correlation id stays on its outbox messages");
            dead.Str("partnerId").Should().Be(partnerId);
            dead.TryGetProperty("payload", out _).Should().BeFalse("the operations API never shows a payload");

            var health = await (await admin.GetAsync("health/details")).JsonAsync();
            health.Str("status").Should().Be("Degraded");
            health.GetProperty("outbox").GetProperty("dead").GetInt32().Should().BeGreaterThanOrEqualTo(1);
            health.GetProperty("problems").EnumerateArray().Select(p => p.GetString()).Should().Contain(p => p!.Contains("dead outbox message"));

            // The broker is back; the operator puts the message back and it is delivered with its original id.
            sink.Refuse = null;
            var retried = await admin.PostAsync($"ops/outbox/{dead.Str("id")}/retry", null);
            retried.StatusCode.Should().Be(HttpStatusCode.Accepted, await retried.Content.ReadAsStringAsync());
            (await retried.JsonAsync()).Str("status").Should().Be("Pending");
            await Responses.EventuallyAsync(async () => await (await Api.Anonymous.GetAsync("dev/events?limit=500")).JsonAsync(),
                e => e.GetProperty("items").EnumerateArray().Any(x => x.Str("id") == dead.Str("id")), TimeSpan.FromSeconds(180));
            (await OutboxAsync(admin)).Should().NotContain(m => m.Str("id") == dead.Str("id"));
            await Responses.EventuallyAsync(() => OutboxAsync(admin, "Pending"), items => items.All(m => m.Str("id") != dead.Str("id")), TimeSpan.FromSeconds(30));
            await ApiSteps.ProblemAsync(await admin.PostAsync($"ops/outbox/{dead.Str("id")}/retry", null), 404);
        }
        finally
        {
            sink.Refuse = null;
        }
    }

    [Fact]
    public async Task The_detailed_health_names_storage_the_outbox_lag_and_the_durable_backend()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var health = await (await admin.GetAsync("health/details")).JsonAsync();
        health.GetProperty("storage").GetProperty("reachable").GetBoolean().Should().BeTrue();
        health.GetProperty("durableBackend").GetProperty("reachable").GetBoolean().Should().BeTrue();
        var outbox = health.GetProperty("outbox");
        outbox.GetProperty("pending").GetInt32().Should().BeGreaterThanOrEqualTo(0);
        outbox.GetProperty("lagSeconds").GetDouble().Should().BeGreaterThanOrEqualTo(0);
        health.Str("status").Should().BeOneOf("Healthy", "Degraded");
        (await Api.Anonymous.GetAsync("health")).StatusCode.Should().Be(HttpStatusCode.OK, "the anonymous check stays as it was");
    }

    [Fact]
    public async Task A_deals_workflow_is_shown_terminated_and_restarted_from_the_registrations_state()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var deal = await Deals.RegisterAsync(sam, Deals.Body("Ops Workflow Customer GmbH", $"ops-wf-{Guid.NewGuid():N}"[..18] + ".example"));
        deal.Str("status").Should().Be("Approved");
        var dealId = deal.Str("id");
        var subject = $"deals/{dealId}";

        var shown = await Responses.EventuallyAsync(async () => await (await admin.GetAsync($"ops/workflows?subject={subject}")).JsonAsync(),
            w => w.GetProperty("workflows")[0].Str("runtimeStatus") == "Running", TimeSpan.FromSeconds(180));
        shown.Str("subject").Should().Be(subject);
        var workflow = shown.GetProperty("workflows").EnumerateArray().Single();
        workflow.Str("kind").Should().Be("deal");
        workflow.Str("instanceId").Should().Be("deal-" + dealId);
        workflow.GetProperty("restartable").GetBoolean().Should().BeTrue();
        var protectedUntil = deal.GetProperty("protectedUntil").GetDateTimeOffset();
        // The first expiry reminder, 14 days before the end of protection (from the instance's history).
        workflow.GetProperty("nextTimer").ValueKind.Should().Be(JsonValueKind.String, workflow.GetRawText());
        workflow.GetProperty("nextTimer").GetDateTimeOffset().Should().BeAfter(DateTimeOffset.UtcNow).And.BeOnOrBefore(protectedUntil);
        workflow.GetProperty("nextTimer").GetDateTimeOffset().Should().BeCloseTo(protectedUntil.AddDays(-14), TimeSpan.FromMinutes(1));

        var terminated = await admin.PostJsonAsync("ops/workflows/terminate", new { subject, reason = "stuck, testing" });
        terminated.StatusCode.Should().Be(HttpStatusCode.Accepted, await terminated.Content.ReadAsStringAsync());
        (await terminated.JsonAsync()).Str("runtimeStatus").Should().Be("Terminated");
        await ApiSteps.ProblemAsync(await admin.PostJsonAsync("ops/workflows/terminate", new { subject }), 409);

        var restarted = await admin.PostJsonAsync("ops/workflows/restart", new { subject, instanceId = "deal-" + dealId });
        restarted.StatusCode.Should().Be(HttpStatusCode.Accepted, await restarted.Content.ReadAsStringAsync());
        await Responses.EventuallyAsync(async () => await (await admin.GetAsync($"ops/workflows?subject={subject}")).JsonAsync(),
            w => w.GetProperty("workflows")[0].Str("runtimeStatus") == "Running", TimeSpan.FromSeconds(180));

        // A registration decided for good needs no workflow: nothing to restart.
        (await sam.PostJsonAsync($"deals/{dealId}/outcome", new { result = "lost", reason = "Budget cut." })).StatusCode.Should().Be(HttpStatusCode.OK);
        await Responses.EventuallyAsync(async () => await (await admin.GetAsync($"ops/workflows?subject={subject}")).JsonAsync(),
            w => w.GetProperty("workflows")[0].Str("runtimeStatus") == "Completed", TimeSpan.FromSeconds(180));
        (await ApiSteps.ProblemAsync(await admin.PostJsonAsync("ops/workflows/restart", new { subject }), 409)).Str("field").Should().Be("subject");
    }

    [Fact]
    public async Task A_partner_shows_its_onboarding_workflows_and_those_without_a_restart_say_so()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var northwind = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var shown = await (await admin.GetAsync($"ops/workflows?subject=partners/{northwind}")).JsonAsync();
        shown.GetProperty("workflows").EnumerateArray().Select(w => w.Str("kind")).Should().Contain(["agreement", "checklist"]);
        (await ApiSteps.ProblemAsync(await admin.PostJsonAsync("ops/workflows/restart", new { subject = $"partners/{northwind}" }), 400))
            .GetProperty("errors").TryGetProperty("instanceId", out _).Should().BeTrue("the subject has several workflows");
        await ApiSteps.ProblemAsync(await admin.PostJsonAsync("ops/workflows/restart", new { subject = $"partners/{northwind}", instanceId = "checklist-" + northwind }), 409);
        var lead = await Leads.CreateAsync(admin, Leads.Body("Ops Lead Corp", $"ops-lead-{Guid.NewGuid():N}"[..20] + ".example", $"ops-{Guid.NewGuid():N}"[..12] + "@ops-lead.example"));
        var leadWorkflows = await (await admin.GetAsync($"ops/workflows?subject=leads/{lead.GetProperty("lead").Str("id")}")).JsonAsync();
        leadWorkflows.GetProperty("workflows")[0].Str("kind").Should().Be("lead");
    }

    [Theory]
    [InlineData("ops/workflows", "subject")]
    [InlineData("ops/workflows?subject=", "subject")]
    [InlineData("ops/workflows?subject=deals", "subject")]
    [InlineData("ops/workflows?subject=invoices/42", "subject")]
    [InlineData("ops/workflows?subject=deals/..%2F..%2Fetc", "subject")]
    [InlineData("ops/outbox?status=stuck", "status")]
    [InlineData("ops/outbox?limit=0", "limit")]
    [InlineData("ops/outbox?cursor=garbage", "cursor")]
    [InlineData("ops/outbox?status=Pending&cursor=garbage", "cursor")]
    public async Task Bad_input_is_a_problem_naming_the_field(string url, string field)
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var problem = await ApiSteps.ProblemAsync(await admin.GetAsync(url), 400);
        problem.GetProperty("errors").TryGetProperty(field, out _).Should().BeTrue(problem.GetRawText());
    }

    [Fact]
    public async Task Bad_workflow_commands_are_problems_naming_the_field()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        (await ApiSteps.ProblemAsync(await admin.PostAsync("ops/workflows/terminate", null), 400)).GetProperty("errors").TryGetProperty("body", out _).Should().BeTrue();
        (await ApiSteps.ProblemAsync(await admin.PostJsonAsync("ops/workflows/terminate", new { subject = "nothing/here" }), 400)).GetProperty("errors").TryGetProperty("subject", out _).Should().BeTrue();
        (await ApiSteps.ProblemAsync(await admin.PostJsonAsync("ops/workflows/restart", new { subject = "deals/deal_x", instanceId = "lead-1" }), 400)).GetProperty("errors").TryGetProperty("instanceId", out _).Should().BeTrue();
        (await ApiSteps.ProblemAsync(await admin.PostJsonAsync("ops/workflows/terminate", new { subject = "deals/deal_x", reason = new string('x', 501) }), 400)).GetProperty("errors").TryGetProperty("reason", out _).Should().BeTrue();
        await ApiSteps.ProblemAsync(await admin.PostJsonAsync("ops/workflows/terminate", new { subject = "deals/deal_unknown" }), 409);
        await ApiSteps.ProblemAsync(await admin.PostAsync("ops/outbox/msg_unknown/retry", null), 404);
    }

    public static TheoryData<string, string> AdminOnlyRoutes()
    {
        var data = new TheoryData<string, string>();
        foreach (var function in FunctionCatalog.HttpFunctions.Where(f => f.Route.StartsWith("ops/", StringComparison.Ordinal) || f.Route.StartsWith("people/{email}", StringComparison.Ordinal) || f.Route == "health/details"))
        {
            function.Policy.Should().Be(AccessPolicy.Admin, function.Route);
            foreach (var method in function.Methods) data.Add(method.ToUpperInvariant(), function.Route);
        }
        return data;
    }

    [Fact]
    public void The_matrix_covers_the_operations_and_privacy_routes() => AdminOnlyRoutes().Count.Should().Be(8);

    [Theory]
    [MemberData(nameof(AdminOnlyRoutes))]
    public async Task Partner_users_channel_managers_and_machine_clients_get_403_and_anonymous_401(string method, string route)
    {
        var url = route.Replace("{messageId}", "msg_0", StringComparison.Ordinal).Replace("{email}", Uri.EscapeDataString(Demo.NorthwindRep), StringComparison.Ordinal)
            + (route == "ops/workflows" ? "?subject=deals/deal_x" : "");
        HttpRequestMessage Request() => new(new HttpMethod(method), url) { Content = method == "GET" ? null : Responses.Json(new { subject = "deals/deal_x" }) };
        foreach (var who in new[] { Demo.NorthwindAdmin, Demo.NorthwindRep, Demo.FabrikamAdmin, Demo.CmEmea })
        {
            var response = await (await Api.ClientAsync(who)).SendAsync(Request());
            (await ApiSteps.ProblemAsync(response, 403)).Str("detail").Should().NotContain("Northwind");
        }
        var app = Api.WithToken((await (await Api.Anonymous.PostJsonAsync("dev/token", new { app = "crm" })).JsonAsync()).Str("accessToken"));
        await ApiSteps.ProblemAsync(await app.SendAsync(Request()), 403);
        await ApiSteps.ProblemAsync(await Api.Anonymous.SendAsync(Request()), 401);
    }
}
