using Prm.Testing;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Prm.DevHost.Tests;

/// <summary>The local host as a person runs it: a process that starts Azurite, serves the API, and leaves nothing behind on Ctrl+C.</summary>
public sealed partial class LocalHostProcessTests
{
    [GeneratedRegex(@"Azurite started \(PID (\d+)\)")]
    private static partial Regex AzuritePid();

    private static Dictionary<string, string> Settings(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string>
        {
            ["Storage__TablePrefix"] = "proc" + Guid.NewGuid().ToString("N")[..8],
            ["LocalHost__TaskHub"] = "hub" + Guid.NewGuid().ToString("N")[..8],
            ["Outbox__SweepSeconds"] = "1",
        };
        foreach (var (key, value) in extra) settings[key] = value;
        return settings;
    }

    [Fact]
    public async Task When_the_azurite_it_started_dies_the_host_says_so_and_stops()
    {
        var azurite = Azurite.FreePorts();
        using var host = await HostProcess.StartHealthyAsync(azurite, Settings());
        var match = AzuritePid().Match(host.Output);
        match.Success.Should().BeTrue(host.Output);

        await HostProcess.SignalAsync(int.Parse(match.Groups[1].Value), "-KILL");

        (await host.WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().BeTrue("the host stops instead of logging connection errors: " + host.Output);
        host.Output.Should().Contain("exited; the host stops");
    }

    [Fact]
    public async Task A_host_whose_port_was_taken_before_it_bound_it_is_started_again_on_another_port()
    {
        // The race this guards against, made certain: the first port offered is held by a listener, as another process took it.
        var azurite = Azurite.FreePorts();
        var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, HostProcess.FreePortBesides(azurite));
        taken.Start();
        try
        {
            var takenPort = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
            var offered = new List<int>();
            using var host = await HostProcess.StartHealthyAsync(azurite, Settings(), () =>
            {
                var port = offered.Count == 0 ? takenPort : HostProcess.FreePortBesides(azurite);
                offered.Add(port);
                return port;
            });
            offered.Should().HaveCount(2).And.StartWith(takenPort);
            host.Client.BaseAddress!.Port.Should().Be(offered[1]);
            (await host.Client.GetAsync("health")).IsSuccessStatusCode.Should().BeTrue();
            await HostProcess.SignalAsync(host.Process.Id, "-INT");
            (await host.WaitForExitAsync(TimeSpan.FromSeconds(40))).Should().BeTrue(host.Output);
        }
        finally
        {
            taken.Stop();
        }
    }

    [Fact]
    public async Task A_host_adopts_the_azurite_a_killed_host_left_running_and_stops_it_on_ctrl_c()
    {
        var location = Path.Combine(Path.GetTempPath(), "prm-azurite-" + Guid.NewGuid().ToString("N")[..8]);
        var azurite = Azurite.FreePorts();
        try
        {
            int azuritePid;
            using (var first = await HostProcess.StartHealthyAsync(azurite, Settings(("LocalHost__AzuriteLocation", location))))
            {
                var match = AzuritePid().Match(first.Output);
                match.Success.Should().BeTrue(first.Output);
                azuritePid = int.Parse(match.Groups[1].Value);
                (await File.ReadAllTextAsync(Path.Combine(location, Azurite.PidFileName))).Trim().Should().Be(azuritePid.ToString());
                await HostProcess.SignalAsync(first.Process.Id, "-KILL");
                (await first.WaitForExitAsync(TimeSpan.FromSeconds(90))).Should().BeTrue();
            }
            Azurite.IsListening(azurite.Table).Should().BeTrue("a killed host leaves its Azurite running");

            using var second = await HostProcess.StartHealthyAsync(azurite, Settings(("LocalHost__AzuriteLocation", location)));
            second.Output.Should().Contain($"Adopting Azurite PID {azuritePid}");
            await HostProcess.SignalAsync(second.Process.Id, "-INT");
            (await second.WaitForExitAsync(TimeSpan.FromSeconds(40))).Should().BeTrue(second.Output);
            HostProcess.IsGone(azuritePid).Should().BeTrue("the adopted Azurite stops with the host that adopted it");
            File.Exists(Path.Combine(location, Azurite.PidFileName)).Should().BeFalse();
        }
        finally
        {
            try { Directory.Delete(location, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task Ctrl_c_stops_the_host_and_the_azurite_it_started()
    {
        var azurite = Azurite.FreePorts();
        using var host = await HostProcess.StartHealthyAsync(azurite, Settings());
        (await host.Client.PostAsync("dev/token", new StringContent("{\"email\":\"admin@vendor.example\"}", Encoding.UTF8, "application/json"))).IsSuccessStatusCode.Should().BeTrue(host.Output);
        var match = AzuritePid().Match(host.Output);
        match.Success.Should().BeTrue(host.Output);
        var azuritePid = int.Parse(match.Groups[1].Value);

        await HostProcess.SignalAsync(host.Process.Id, "-INT");
        (await host.WaitForExitAsync(TimeSpan.FromSeconds(40))).Should().BeTrue("Ctrl+C stops the host: " + host.Output);
        Azurite.IsListening(azurite.Table).Should().BeFalse("the Azurite the host started is stopped");
        HostProcess.IsGone(azuritePid).Should().BeTrue();
    }

    [Fact]
    public async Task A_workflow_waiting_on_its_timer_survives_a_killed_host_and_completes_after_restart()
    {
        var azurite = Azurite.FreePorts();
        var settings = Settings(("Workflows__InvitationReminderAfter", "00:00:12"));
        int? azuritePid = null;
        try
        {
            string partnerId;
            using (var first = await HostProcess.StartHealthyAsync(azurite, settings))
            {
                azuritePid = int.Parse(AzuritePid().Match(first.Output).Groups[1].Value);
                var token = await TokenAsync(first.Client, "anna@northwind.example");
                var me = await Get(first.Client, "me", token);
                partnerId = me.GetProperty("partnerId").GetString()!;
                var invite = new HttpRequestMessage(HttpMethod.Post, $"partners/{partnerId}/users") { Content = JsonContent.Create(new { email = "survivor@northwind.example", displayName = "Survivor" }) };
                invite.Headers.Authorization = new("Bearer", token);
                var invited = await first.Client.SendAsync(invite);
                invited.IsSuccessStatusCode.Should().BeTrue(first.Output);
                var userId = (await invited.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
                // The invitation email proves the outbox delivered the event that starts the workflow; Running in the task hub, that the
                // workflow's first episode (which schedules the reminder timer) is committed, so the kill cannot lose it.
                (await WaitForMailAsync(first.Client, "survivor@northwind.example", 1, TimeSpan.FromSeconds(120))).Should().Be(1);
                await WaitForWorkflowRunningAsync(azurite.Table, settings["LocalHost__TaskHub"], "invitation-" + userId, TimeSpan.FromSeconds(60));
                await HostProcess.SignalAsync(first.Process.Id, "-KILL");
                (await first.WaitForExitAsync(TimeSpan.FromSeconds(20))).Should().BeTrue();
            }
            Azurite.IsListening(azurite.Table).Should().BeTrue("a killed host leaves its Azurite running, with the workflow state in it");

            using var second = await HostProcess.StartHealthyAsync(azurite, settings);
            second.Output.Should().Contain("an Azurite this host did not start already listens", "a reused Azurite is announced");
            (await WaitForMailAsync(second.Client, "survivor@northwind.example", 2, TimeSpan.FromSeconds(90))).Should().Be(2, "the reminder timer fired in the restarted host: " + second.Output);
            await HostProcess.SignalAsync(second.Process.Id, "-TERM");
            await second.WaitForExitAsync(TimeSpan.FromSeconds(40));
        }
        finally
        {
            if (azuritePid is { } pid)
            {
                await HostProcess.SignalAsync(pid, "-KILL");
                HostProcess.IsGone(pid).Should().BeTrue();
            }
        }
    }

    [Fact]
    public async Task An_approved_partner_waiting_for_its_agreement_is_activated_by_the_link_after_the_host_was_killed()
    {
        var azurite = Azurite.FreePorts();
        var settings = Settings(("Agreement__FirstReminderAfter", "00:10:00"), ("Agreement__SecondReminderAfter", "00:20:00"), ("Agreement__ExpiresAfter", "00:30:00"));
        int? azuritePid = null;
        try
        {
            string partnerId;
            string agreementPath;
            using (var first = await HostProcess.StartHealthyAsync(azurite, settings))
            {
                azuritePid = int.Parse(AzuritePid().Match(first.Output).Groups[1].Value);
                var submit = await first.Client.PostAsJsonAsync("partner-applications", new
                {
                    company = new { legalName = "Restart Resilience AG", domain = "restart.example", country = "DE", region = "emea", partnerType = "reseller" },
                    applicant = new { name = "Rita Restart", email = "rita@restart.example" },
                    acceptedTermsVersion = "2026-01",
                    acceptedPrivacyVersion = "2026-01",
                });
                submit.IsSuccessStatusCode.Should().BeTrue(first.Output);
                var applicationId = (await submit.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("applicationId").GetString()!;
                var token = await TokenAsync(first.Client, "cm.emea@vendor.example");
                var decide = new HttpRequestMessage(HttpMethod.Post, $"partner-applications/{applicationId}/decision") { Content = JsonContent.Create(new { decision = "approve" }) };
                decide.Headers.Authorization = new("Bearer", token);
                var decided = await first.Client.SendAsync(decide);
                decided.IsSuccessStatusCode.Should().BeTrue(first.Output);
                partnerId = (await decided.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("partnerId").GetString()!;
                agreementPath = await WaitForLinkAsync(first.Client, "rita@restart.example", "Please accept", TimeSpan.FromSeconds(120));
                await WaitForWorkflowRunningAsync(azurite.Table, settings["LocalHost__TaskHub"], "agreement-" + partnerId, TimeSpan.FromSeconds(60));
                await HostProcess.SignalAsync(first.Process.Id, "-KILL");
                (await first.WaitForExitAsync(TimeSpan.FromSeconds(20))).Should().BeTrue();
            }

            using var second = await HostProcess.StartHealthyAsync(azurite, settings);
            // The mails before the step under test: the welcome must be a new one, sent because of the acceptance below.
            var beforeAccept = await WaitForMailboxAsync(second.Client, "rita@restart.example", _ => true, "the mailbox", TimeSpan.FromSeconds(120));
            beforeAccept.Should().NotContain(s => s.StartsWith("Welcome to the partner program", StringComparison.Ordinal));
            var accepted = await second.Client.PostAsync(agreementPath, new FormUrlEncodedContent([new("decision", "accept")]));
            accepted.IsSuccessStatusCode.Should().BeTrue(await accepted.Content.ReadAsStringAsync());
            var admin = await TokenAsync(second.Client, "admin@vendor.example");
            (await Get(second.Client, $"partners/{partnerId}", admin)).GetProperty("status").GetString().Should().Be("Active");
            var timeline = await Get(second.Client, $"partners/{partnerId}/timeline", admin);
            timeline.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("action").GetString()).Should().Contain("partner.agreement.accepted");
            var afterAccept = await WaitForMailboxAsync(second.Client, "rita@restart.example",
                m => m.Any(s => s.StartsWith("Welcome to the partner program", StringComparison.Ordinal)), "the welcome mail", TimeSpan.FromSeconds(60));
            afterAccept.Should().HaveCount(beforeAccept.Count + 1, "the acceptance sent exactly one mail, the welcome")
                .And.ContainSingle(s => s == "Welcome to the partner program, Restart Resilience AG");
            await HostProcess.SignalAsync(second.Process.Id, "-TERM");
            await second.WaitForExitAsync(TimeSpan.FromSeconds(40));
        }
        finally
        {
            if (azuritePid is { } pid)
            {
                await HostProcess.SignalAsync(pid, "-KILL");
                HostProcess.IsGone(pid).Should().BeTrue();
            }
        }
    }

    private static async Task<string> WaitForLinkAsync(HttpClient client, string to, string subjectStart, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var mail = await client.GetFromJsonAsync<JsonElement>($"dev/mail?to={Uri.EscapeDataString(to)}");
            foreach (var item in mail.GetProperty("items").EnumerateArray().Where(m => m.GetProperty("subject").GetString()!.StartsWith(subjectStart, StringComparison.Ordinal)))
            {
                var link = item.GetProperty("links").EnumerateArray().Select(l => l.GetString()!).First(l => l.Contains("/approvals/"));
                return "approvals/" + link[(link.IndexOf("/approvals/", StringComparison.Ordinal) + 11)..];
            }
            await Task.Delay(500);
        }
        throw new TimeoutException($"No mail '{subjectStart}' to {to}.");
    }

    /// <summary>
    /// Waits until the task hub records the instance as Running: its first episode (and the timers it scheduled) is committed to storage.
    /// Fails with the last status seen when the deadline passes.
    /// </summary>
    private static async Task WaitForWorkflowRunningAsync(int tablePort, string taskHub, string instanceId, TimeSpan timeout)
    {
        var instances = new Azure.Data.Tables.TableClient(
            $"DefaultEndpointsProtocol=http;AccountName={Azurite.AccountName};AccountKey={Azurite.AccountKey};TableEndpoint=http://127.0.0.1:{tablePort}/{Azurite.AccountName};", taskHub + "Instances");
        var deadline = DateTime.UtcNow + timeout;
        string? status = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var row = await instances.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>(instanceId, "");
                status = row.HasValue ? row.Value!.GetString("RuntimeStatus") : null;
                if (status == "Running") return;
            }
            catch (Azure.RequestFailedException ex) when (ex.Status == 404)
            {
                // The task hub's tables are not created yet.
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"Workflow {instanceId} in task hub {taskHub} was not Running within {timeout}; last status: {status ?? "none"}.");
    }

    private static async Task<string> TokenAsync(HttpClient client, string email)
    {
        var response = await client.PostAsync("dev/token", new StringContent($"{{\"email\":\"{email}\"}}", Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
    }

    private static async Task<JsonElement> Get(HttpClient client, string url, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new("Bearer", token);
        var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Waits until <paramref name="to"/> has at least <paramref name="count"/> mails; a timeout fails with what was there.</summary>
    private static async Task<int> WaitForMailAsync(HttpClient client, string to, int count, TimeSpan timeout) =>
        (await WaitForMailboxAsync(client, to, items => items.Count >= count, $"{count} mails", timeout)).Count;

    /// <summary>The subjects of the mails to <paramref name="to"/>, once <paramref name="done"/> holds; a timeout fails with what was there.</summary>
    private static async Task<IReadOnlyList<string>> WaitForMailboxAsync(HttpClient client, string to, Func<IReadOnlyList<string>, bool> done, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        IReadOnlyList<string> subjects = [];
        while (DateTime.UtcNow < deadline)
        {
            var mail = await client.GetFromJsonAsync<JsonElement>($"dev/mail?to={Uri.EscapeDataString(to)}");
            subjects = mail.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("subject").GetString()!).ToList();
            if (done(subjects)) return subjects;
            await Task.Delay(500);
        }
        throw new TimeoutException($"Waited {timeout} for {what} to {to}; the mailbox had: [{string.Join(" | ", subjects)}]");
    }
}
