using System.Net;
using System.Text.Json;
using Prm.Testing;

namespace Prm.Api.Tests;

internal static class Training
{
    /// <summary>A course with an exam of <paramref name="questions"/> single-choice questions whose right option is always "a".</summary>
    public static object CourseBody(string title, int questions = 3, int? passScore = null, int? perAttempt = null, string track = "sales") => new
    {
        title, description = "A course for the end-to-end tests.", productLines = new[] { "cloud-backup" }, track,
        modules = new object[] { new { title = "Intro", kind = "text", body = "Read me." }, new { title = "Demo", kind = "video", url = "https://video.example/demo" } },
        exam = new
        {
            questions = Enumerable.Range(1, questions).Select(i => new { id = $"q{i}", text = $"Question {i}?", kind = "single", options = new[] { new { id = "a", text = "Right" }, new { id = "b", text = "Wrong" } }, correct = new[] { "a" }, points = 1 }),
            questionsPerAttempt = perAttempt ?? questions, passScore,
        },
        publish = true,
    };

    public static async Task<string> CourseAsync(HttpClient admin, object body)
    {
        var response = await admin.PostJsonAsync("courses", body);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.JsonAsync()).Str("id");
    }

    public static async Task<JsonElement> CertificationAsync(HttpClient admin, string name, string[] courses, int validityMonths = 24, int[]? reminders = null, int graceDays = 30, string level = "associate")
    {
        var response = await admin.PostJsonAsync("certifications", new { name, track = "sales", level, requiredCourses = courses, validityMonths, reminderDaysBefore = reminders, graceDays });
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    /// <summary>Starts an attempt and submits it with every answer right (or every answer wrong).</summary>
    public static async Task<JsonElement> PassAsync(HttpClient person, string courseId, bool right = true)
    {
        var started = await person.PostAsync($"courses/{courseId}/attempts", null);
        started.StatusCode.Should().Be(HttpStatusCode.Created, await started.Content.ReadAsStringAsync());
        var attempt = await started.JsonAsync();
        var answers = attempt.GetProperty("questions").EnumerateArray().Select(q => new { questionId = q.Str("id"), selected = new[] { right ? "a" : "b" } }).ToList();
        var submitted = await person.PostJsonAsync($"attempts/{attempt.Str("id")}/submit", new { answers });
        submitted.StatusCode.Should().Be(HttpStatusCode.OK, await submitted.Content.ReadAsStringAsync());
        return await submitted.JsonAsync();
    }

    public static Task<JsonElement> EventAsync(ApiHost api, string type, Func<JsonElement, bool> match, TimeSpan? timeout = null) =>
        Responses.EventuallyAsync(async () => await (await api.Anonymous.GetAsync("dev/events?limit=500")).JsonAsync(),
            e => e.GetProperty("items").EnumerateArray().Any(x => x.Str("type") == type && match(x)), timeout)
            .ContinueWith(t => t.Result.GetProperty("items").EnumerateArray().First(x => x.Str("type") == type && match(x)), TaskScheduler.Default);

    public static async Task<HttpClient> LmsAsync(ApiHost api)
    {
        var response = await api.Anonymous.PostJsonAsync("dev/token", new { app = "lms" });
        response.EnsureSuccessStatusCode();
        return api.WithToken((await response.JsonAsync()).Str("accessToken"));
    }

    public static object Statement(string id, string email, string verb, string activity, string? timestamp = null) => new
    {
        id, actor = new { objectType = "Agent", mbox = "mailto:" + email, name = "Learner" },
        verb = new { id = "http://adlnet.gov/expapi/verbs/" + verb, display = new { en = verb } },
        @object = new { objectType = "Activity", id = activity },
        result = new { success = true, completion = true },
        timestamp = timestamp ?? DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O"),
    };
}

/// <summary>Training and certification end to end on the local host.</summary>
public sealed class TrainingTests(ApiHostFixture fixture) : IClassFixture<ApiHostFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    // Removes sam from Northwind at its end: the other tests of this class use Northwind's admin.
    public async Task A_rep_passes_an_exam_which_awards_the_certification_completes_the_checklist_shows_at_the_verify_url_and_leaves_a_gap_when_removed()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var anna = await Api.ClientAsync(Demo.NorthwindAdmin);
        var partnerId = await ApiSteps.PartnerIdAsync(Api, "Northwind Traders");
        var courseId = await Training.CourseAsync(admin, Training.CourseBody("Selling Cloud Backup", questions: 5, perAttempt: 4));
        var definition = await Training.CertificationAsync(admin, "Cloud Backup Sales Associate", [courseId]);

        // The questions come without answers: no "correct" anywhere in the attempt.
        var started = await sam.PostAsync($"courses/{courseId}/attempts", null);
        started.StatusCode.Should().Be(HttpStatusCode.Created);
        var raw = await started.Content.ReadAsStringAsync();
        raw.Should().NotContain("correct", "answers never reach the client");
        var attempt = JsonDocument.Parse(raw).RootElement;
        attempt.GetProperty("questions").GetArrayLength().Should().Be(4);
        var answers = attempt.GetProperty("questions").EnumerateArray().Select(q => new { questionId = q.Str("id"), selected = new[] { "a" } }).ToList();
        // The Location header reads the open attempt back: the same questions, still without answers.
        started.Headers.Location!.ToString().Should().Be($"/api/attempts/{attempt.Str("id")}");
        var open = await sam.GetAsync($"attempts/{attempt.Str("id")}");
        var openRaw = await open.Content.ReadAsStringAsync();
        open.StatusCode.Should().Be(HttpStatusCode.OK, openRaw);
        openRaw.Should().NotContain("correct");
        var reread = JsonDocument.Parse(openRaw).RootElement;
        reread.Str("status").Should().Be("Open");
        reread.GetProperty("questions").EnumerateArray().Select(q => q.Str("id")).Should().Equal(attempt.GetProperty("questions").EnumerateArray().Select(q => q.Str("id")));

        // Bad answers name the field and write nothing; then the right ones pass.
        var unknown = await sam.PostJsonAsync($"attempts/{attempt.Str("id")}/submit", new { answers = new[] { new { questionId = "nope", selected = new[] { "a" } } } });
        (await ApiSteps.ProblemAsync(unknown, 422)).GetProperty("errors").TryGetProperty("answers[0].questionId", out _).Should().BeTrue();
        var twice = await sam.PostJsonAsync($"attempts/{attempt.Str("id")}/submit", new { answers = new[] { answers[0], answers[0] } });
        (await ApiSteps.ProblemAsync(twice, 422)).GetProperty("errors").TryGetProperty("answers[1].questionId", out _).Should().BeTrue();
        var submitted = await sam.PostJsonAsync($"attempts/{attempt.Str("id")}/submit", new { answers });
        submitted.StatusCode.Should().Be(HttpStatusCode.OK, await submitted.Content.ReadAsStringAsync());
        var result = await submitted.JsonAsync();
        result.GetProperty("score").GetInt32().Should().Be(100);
        result.GetProperty("passed").GetBoolean().Should().BeTrue();
        (await submitted.Content.ReadAsStringAsync()).Should().NotContain("correct");
        await ApiSteps.ProblemAsync(await sam.PostJsonAsync($"attempts/{attempt.Str("id")}/submit", new { answers }), 409);
        var closed = await (await sam.GetAsync($"attempts/{attempt.Str("id")}")).JsonAsync();
        closed.Str("status").Should().Be("Passed");
        closed.GetProperty("score").GetInt32().Should().Be(100);
        // Another person's attempt does not exist for them.
        await ApiSteps.ProblemAsync(await anna.GetAsync($"attempts/{attempt.Str("id")}"), 404);
        await ApiSteps.ProblemAsync(await anna.PostJsonAsync($"attempts/{attempt.Str("id")}/submit", new { answers }), 404);

        // The certification is awarded: earned event, the person's list, the checklist item, the verification URL.
        var earned = await Training.EventAsync(Api, "certification.earned", e => e.GetProperty("data").Str("definitionId") == definition.Str("id"));
        earned.Str("partnerId").Should().Be(partnerId);
        var mine = await (await sam.GetAsync("people/me/certifications")).JsonAsync();
        var award = mine.GetProperty("awards").EnumerateArray().Single(a => a.Str("definitionId") == definition.Str("id"));
        award.Str("status").Should().Be("Active");
        award.Str("number").Should().MatchRegex("^CERT-[0-9]{6}-[0-9A-Z]{6}$");
        mine.GetProperty("enrollments").EnumerateArray().Single(e => e.Str("courseId") == courseId).Str("status").Should().Be("Passed");
        var checklist = await Responses.EventuallyAsync(async () => await (await anna.GetAsync($"partners/{partnerId}/onboarding")).JsonAsync(),
            c => c.GetProperty("items").EnumerateArray().Any(i => i.Str("key") == "firstCertification" && i.GetProperty("done").GetBoolean()));
        checklist.GetProperty("items").EnumerateArray().Single(i => i.Str("key") == "firstCertification").GetProperty("done").GetBoolean().Should().BeTrue();

        var code = award.Str("verificationCode");
        var verified = await Api.Anonymous.GetAsync($"certifications/verify/{code}");
        verified.StatusCode.Should().Be(HttpStatusCode.OK);
        var shown = await verified.JsonAsync();
        shown.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(["personName", "certification", "status", "earnedAt", "expiresAt"], "the public page shows nothing else");
        shown.Str("certification").Should().Be("Cloud Backup Sales Associate");
        shown.Str("status").Should().Be("Active");
        var tampered = code[..^1] + (code[^1] == 'A' ? 'B' : 'A');
        await ApiSteps.ProblemAsync(await Api.Anonymous.GetAsync($"certifications/verify/{tampered}"), 404);
        await ApiSteps.ProblemAsync(await Api.Anonymous.GetAsync("certifications/verify/guess"), 404);

        // The certificate PDF for the holder; another partner's admin does not see the award.
        var pdf = await sam.GetAsync($"awards/{award.Str("id")}/certificate");
        pdf.StatusCode.Should().Be(HttpStatusCode.OK);
        pdf.Content.Headers.ContentType!.MediaType.Should().Be("application/pdf");
        var bytes = await pdf.Content.ReadAsByteArrayAsync();
        System.Text.Encoding.ASCII.GetString(bytes, 0, 8).Should().Be("%PDF-1.4");
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.FabrikamAdmin)).GetAsync($"awards/{award.Str("id")}/certificate"), 404);

        // The partner's view: counts by track and level, holders; not for its sales reps, not for another partner.
        var view = await (await anna.GetAsync($"partners/{partnerId}/certifications")).JsonAsync();
        view.GetProperty("counts").EnumerateArray().Single(c => c.Str("track") == "sales" && c.Str("level") == "associate").GetProperty("people").GetInt32().Should().Be(1);
        view.GetProperty("holders").EnumerateArray().Should().ContainSingle(h => h.Str("displayName").Length > 0);
        await ApiSteps.ProblemAsync(await sam.GetAsync($"partners/{partnerId}/certifications"), 403);
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.FabrikamAdmin)).GetAsync($"partners/{partnerId}/certifications"), 404);
        (await (await Api.ClientAsync(Demo.CmEmea)).GetAsync($"partners/{partnerId}/certifications")).StatusCode.Should().Be(HttpStatusCode.OK);

        // The course's figures.
        var stats = await Responses.EventuallyAsync(async () => await (await admin.GetAsync($"courses/{courseId}/stats")).JsonAsync(), s => s.GetProperty("passed").GetInt32() == 1);
        stats.GetProperty("passRate").GetDouble().Should().Be(1.0);

        // Removing the certified person from the partner: the counts drop and certification.gap names the certification and the count.
        var samUser = await ApiSteps.UserByEmailAsync(anna, partnerId, Demo.NorthwindRep);
        (await anna.DeleteAsync($"partners/{partnerId}/users/{samUser.Str("id")}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var gap = await Training.EventAsync(Api, "certification.gap", e => e.GetProperty("data").Str("userId") == samUser.Str("id"));
        gap.Str("partnerId").Should().Be(partnerId);
        gap.GetProperty("data").Str("certificationName").Should().Be("Cloud Backup Sales Associate");
        gap.GetProperty("data").GetProperty("people").GetInt32().Should().Be(0);
        var after = await (await anna.GetAsync($"partners/{partnerId}/certifications")).JsonAsync();
        after.GetProperty("counts").GetArrayLength().Should().Be(0);
        // The award stays the person's: it still verifies.
        (await Api.Anonymous.GetAsync($"certifications/verify/{code}")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_failed_attempt_starts_the_cooldown_429_with_retry_after()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var person = await Api.ClientAsync(Demo.NorthwindAdmin);
        var courseId = await Training.CourseAsync(admin, Training.CourseBody("Cooldown course", questions: 2));
        var failed = await Training.PassAsync(person, courseId, right: false);
        failed.GetProperty("passed").GetBoolean().Should().BeFalse();
        failed.Str("status").Should().Be("Failed");
        var again = await person.PostAsync($"courses/{courseId}/attempts", null);
        await ApiSteps.ProblemAsync(again, 429);
        int.Parse(again.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture).Should().BeInRange(23 * 3600, 24 * 3600);
        var failedEvent = await Training.EventAsync(Api, "exam.failed", e => e.GetProperty("data").Str("courseId") == courseId);
        failedEvent.GetProperty("data").GetProperty("score").GetInt32().Should().Be(0);
    }

    [Fact]
    public async Task Bad_course_and_certification_input_names_the_field()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var bad = await admin.PostJsonAsync("courses", Training.CourseBody("Bad pass score", passScore: 101));
        (await ApiSteps.ProblemAsync(bad, 400)).GetProperty("errors").TryGetProperty("exam.passScore", out _).Should().BeTrue();
        var zero = await admin.PostJsonAsync("courses", Training.CourseBody("Zero pass score", passScore: 0));
        (await ApiSteps.ProblemAsync(zero, 400)).GetProperty("errors").TryGetProperty("exam.passScore", out _).Should().BeTrue();
        var cert = await admin.PostJsonAsync("certifications", new { name = "X", track = "sales", level = "associate", requiredCourses = new[] { "crs_00000000000000000000000000000000" } });
        (await ApiSteps.ProblemAsync(cert, 400)).GetProperty("errors").TryGetProperty("requiredCourses[0]", out _).Should().BeTrue();
        await ApiSteps.ProblemAsync(await (await Api.ClientAsync(Demo.NorthwindAdmin)).PostJsonAsync("courses", Training.CourseBody("Not mine")), 403);
        (await (await Api.ClientAsync(Demo.NorthwindAdmin)).GetAsync("courses")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_edit_after_publication_makes_a_new_version()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var courseId = await Training.CourseAsync(admin, Training.CourseBody("Versioned course"));
        var (_, etag) = await ApiSteps.GetWithETagAsync(admin, $"courses/{courseId}");
        var put = new HttpRequestMessage(HttpMethod.Put, $"courses/{courseId}") { Content = Responses.Json(Training.CourseBody("Versioned course, v2")) };
        put.Headers.TryAddWithoutValidation("If-Match", etag);
        var edited = await admin.SendAsync(put);
        edited.StatusCode.Should().Be(HttpStatusCode.OK, await edited.Content.ReadAsStringAsync());
        (await edited.JsonAsync()).GetProperty("version").GetInt32().Should().Be(2);
        var stale = new HttpRequestMessage(HttpMethod.Put, $"courses/{courseId}") { Content = Responses.Json(Training.CourseBody("v3")) };
        stale.Headers.TryAddWithoutValidation("If-Match", etag);
        await ApiSteps.ProblemAsync(await admin.SendAsync(stale), 412);
    }

    [Fact]
    public async Task A_new_course_version_invalidates_older_awards_from_a_date_with_a_notice_and_passing_it_restores_the_expiry()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var rita = await Api.ClientAsync(Demo.FabrikamRep);
                var title = "Invalidated course " + Guid.NewGuid().ToString("N")[..8];
        var courseId = await Training.CourseAsync(admin, Training.CourseBody(title, questions: 1));
        var definition = await Training.CertificationAsync(admin, title + " certification", [courseId]);
        (await Training.PassAsync(rita, courseId)).GetProperty("passed").GetBoolean().Should().BeTrue();
        var earned = await Training.EventAsync(Api, "certification.earned", e => e.GetProperty("data").Str("definitionId") == definition.Str("id"));
        var awardId = earned.GetProperty("data").Str("awardId");
        var originalExpiry = earned.GetProperty("data").GetProperty("expiresAt").GetDateTimeOffset();

        // Version 1 cannot invalidate anything; bad dates name the field; only admins mark.
        var from = DateTime.UtcNow.Date.AddDays(40).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        (await ApiSteps.ProblemAsync(await admin.PostJsonAsync($"courses/{courseId}/invalidate-older-awards", new { from }), 422)).GetProperty("errors").TryGetProperty("from", out _).Should().BeTrue();
        var (_, etag) = await ApiSteps.GetWithETagAsync(admin, $"courses/{courseId}");
        var put = new HttpRequestMessage(HttpMethod.Put, $"courses/{courseId}") { Content = Responses.Json(Training.CourseBody(title + " v2", questions: 1)) };
        put.Headers.TryAddWithoutValidation("If-Match", etag);
        (await (await admin.SendAsync(put)).JsonAsync()).GetProperty("version").GetInt32().Should().Be(2);
        foreach (var bad in new object[] { new { }, new { from = "2001-01-01" }, new { from = "someday" }, new { from = DateTime.UtcNow.AddYears(2).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) } })
            (await ApiSteps.ProblemAsync(await admin.PostJsonAsync($"courses/{courseId}/invalidate-older-awards", bad), 400)).GetProperty("errors").TryGetProperty("from", out _).Should().BeTrue();
        (await rita.PostJsonAsync($"courses/{courseId}/invalidate-older-awards", new { from })).StatusCode.Should().Be(HttpStatusCode.Forbidden);

        var marked = await admin.PostJsonAsync($"courses/{courseId}/invalidate-older-awards", new { from });
        marked.StatusCode.Should().Be(HttpStatusCode.OK, await marked.Content.ReadAsStringAsync());
        (await marked.JsonAsync()).GetProperty("awardInvalidations").EnumerateArray().Should().ContainSingle().Which.GetProperty("version").GetInt32().Should().Be(2);

        // The award now expires at the date (Grace after it), the holder and the partner's admins get a notice at once.
        var invalidated = await Training.EventAsync(Api, "certification.invalidated", e => e.GetProperty("data").Str("awardId") == awardId, TimeSpan.FromSeconds(90));
        invalidated.GetProperty("data").GetProperty("expiresAt").GetDateTimeOffset().Should().Be(new DateTimeOffset(DateTime.Parse(from, System.Globalization.CultureInfo.InvariantCulture), TimeSpan.Zero));
        var mine = (await (await rita.GetAsync("people/me/certifications")).JsonAsync()).GetProperty("awards").EnumerateArray().Single(a => a.Str("id") == awardId);
        mine.GetProperty("expiresAt").GetDateTimeOffset().Should().Be(invalidated.GetProperty("data").GetProperty("expiresAt").GetDateTimeOffset());
        foreach (var to in new[] { Demo.FabrikamRep, Demo.FabrikamAdmin })
        {
            // The holder and the partner's admins.
            await Responses.EventuallyAsync(async () => await (await Api.Anonymous.GetAsync($"dev/mail?to={Uri.EscapeDataString(to)}&limit=500")).Content.ReadAsStringAsync(),
                m => m.Contains(title + " certification: must be requalified on the new course version"), TimeSpan.FromSeconds(180));
        }

        // Passing version 2 restores the expiry it had.
        (await Training.PassAsync(rita, courseId)).GetProperty("courseVersion").GetInt32().Should().Be(2);
        var requalified = await Training.EventAsync(Api, "certification.requalified", e => e.GetProperty("data").Str("awardId") == awardId, TimeSpan.FromSeconds(90));
        requalified.GetProperty("data").GetProperty("expiresAt").GetDateTimeOffset().Should().Be(originalExpiry);
        var back = (await (await rita.GetAsync("people/me/certifications")).JsonAsync()).GetProperty("awards").EnumerateArray().Single(a => a.Str("id") == awardId);
        back.GetProperty("expiresAt").GetDateTimeOffset().Should().BeCloseTo(originalExpiry, TimeSpan.FromMilliseconds(1), "the API writes instants to the millisecond");
        back.Str("status").Should().Be("Active");
    }

    [Fact]
    public async Task An_xapi_passed_statement_completes_the_second_course_once_unknowns_are_parked_and_bad_statements_name_the_field()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var lms = await Training.LmsAsync(Api);
        var first = await Training.CourseAsync(admin, Training.CourseBody("Presales basics", track: "sales"));
        var second = await Training.CourseAsync(admin, Training.CourseBody("Presales in the LMS", track: "sales"));
        var definition = await Training.CertificationAsync(admin, "Two-course path", [first, second], level: "professional");
        const string activity = "https://lms.example/courses/presales-101";
        var mapped = await admin.SendAsync(new HttpRequestMessage(HttpMethod.Put, $"courses/{second}/external-activities") { Content = Responses.Json(new { activityIds = new[] { activity } }) });
        mapped.StatusCode.Should().Be(HttpStatusCode.OK, await mapped.Content.ReadAsStringAsync());

        var person = await Api.ClientAsync(Demo.NorthwindAdmin);
        (await Training.PassAsync(person, first)).GetProperty("passed").GetBoolean().Should().BeTrue();
        var statementId = Guid.NewGuid().ToString();
        var recorded = await lms.PostJsonAsync("xapi/statements", Training.Statement(statementId, Demo.NorthwindAdmin, "passed", activity));
        recorded.StatusCode.Should().Be(HttpStatusCode.OK, await recorded.Content.ReadAsStringAsync());
        (await recorded.JsonAsync()).GetProperty("results")[0].Str("outcome").Should().Be("recorded");
        var earned = await Training.EventAsync(Api, "certification.earned", e => e.GetProperty("data").Str("definitionId") == definition.Str("id"));
        var before = await (await person.GetAsync("people/me/certifications")).Content.ReadAsStringAsync();

        var again = await lms.PostJsonAsync("xapi/statements", Training.Statement(statementId, Demo.NorthwindAdmin, "passed", activity));
        (await again.JsonAsync()).GetProperty("results")[0].Str("outcome").Should().Be("duplicate");
        (await (await person.GetAsync("people/me/certifications")).Content.ReadAsStringAsync()).Should().Be(before, "the same statement again changes nothing");

        // Unknown actor and unknown activity: parked for review, not dropped.
        var stranger = await lms.PostJsonAsync("xapi/statements", Training.Statement(Guid.NewGuid().ToString(), "nobody@unknown.example", "completed", activity));
        (await stranger.JsonAsync()).GetProperty("results")[0].Str("outcome").Should().Be("parked");
        var unmapped = await lms.PostJsonAsync("xapi/statements", Training.Statement(Guid.NewGuid().ToString(), Demo.NorthwindAdmin, "completed", "https://lms.example/other"));
        (await unmapped.JsonAsync()).GetProperty("results")[0].Str("outcome").Should().Be("parked");
        (await (await admin.GetAsync("xapi/parked")).JsonAsync()).GetProperty("items").GetArrayLength().Should().BeGreaterThanOrEqualTo(2);

        // Bad statements: the field is named.
        (await ApiSteps.ProblemAsync(await lms.PostJsonAsync("xapi/statements", Training.Statement(Guid.NewGuid().ToString(), Demo.NorthwindAdmin, "experienced", activity)), 400))
            .GetProperty("errors").TryGetProperty("verb.id", out _).Should().BeTrue();
        (await ApiSteps.ProblemAsync(await lms.PostJsonAsync("xapi/statements", Training.Statement(Guid.NewGuid().ToString(), "not-an-email", "passed", activity)), 400))
            .GetProperty("errors").TryGetProperty("actor.mbox", out _).Should().BeTrue();
        (await ApiSteps.ProblemAsync(await lms.PostJsonAsync("xapi/statements", Training.Statement(Guid.NewGuid().ToString(), Demo.NorthwindAdmin, "passed", activity, DateTimeOffset.UtcNow.AddDays(1).ToString("O"))), 400))
            .GetProperty("errors").TryGetProperty("timestamp", out _).Should().BeTrue();
        // A partner user's token is not a machine client.
        await ApiSteps.ProblemAsync(await person.PostJsonAsync("xapi/statements", Training.Statement(Guid.NewGuid().ToString(), Demo.NorthwindAdmin, "passed", activity)), 403);

        // Voiding the statement revokes the completion and the certification resting on it.
        var voided = await lms.PostJsonAsync("xapi/statements", new
        {
            id = Guid.NewGuid().ToString(), actor = new { mbox = "mailto:" + Demo.NorthwindAdmin }, verb = new { id = "http://adlnet.gov/expapi/verbs/voided" },
            @object = new { objectType = "StatementRef", id = statementId },
        });
        (await voided.JsonAsync()).GetProperty("results")[0].Str("outcome").Should().Be("voided");
        var revoked = await Training.EventAsync(Api, "certification.revoked", e => e.GetProperty("data").Str("awardId") == earned.GetProperty("data").Str("awardId"));
        revoked.GetProperty("data").Str("status").Should().Be("Revoked");
        (await Api.WorkflowFinishedAsync("award-" + earned.GetProperty("data").Str("awardId"))).Should().Be(Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Completed, "revocation ends the award's workflow");
    }
}

/// <summary>A certification day of 100 ms: a month of validity is 3 s, grace 30 days 3 s.</summary>
public sealed class ShortCertificationFixture : ApiHostFixture
{
    public override async Task InitializeAsync() => Api = await ApiHost.StartAsync(new Dictionary<string, string?> { ["Training:DayLength"] = "00:00:00.300" });
}

public sealed class CertificationExpiryTests(ShortCertificationFixture fixture) : IClassFixture<ShortCertificationFixture>
{
    private ApiHost Api => fixture.Api;

    [Fact]
    public async Task An_award_is_reminded_enters_grace_and_expires_after_shortened_deadlines()
    {
        var admin = await Api.ClientAsync(Demo.Admin);
        var sam = await Api.ClientAsync(Demo.NorthwindRep);
        var courseId = await Training.CourseAsync(admin, Training.CourseBody("Short-lived course", questions: 1));
        // Three months (90 days of 300 ms = 27 s) of validity, reminders 20 and 10 days before (21 s and 24 s after the award), 30 days
        // (9 s) of grace. A workflow that starts late still sends the latest reminder due before the expiry; one that starts after the
        // expiry sends none, by rule — so the validity leaves a loaded machine 27 s to start it (9 s did not at a load average of 60-90).
        var definition = await Training.CertificationAsync(admin, "Short-lived certification", [courseId], validityMonths: 3, reminders: [20, 10], graceDays: 30);
        (await Training.PassAsync(sam, courseId)).GetProperty("passed").GetBoolean().Should().BeTrue();
        var earned = await Training.EventAsync(Api, "certification.earned", e => e.GetProperty("data").Str("definitionId") == definition.Str("id"));
        var awardId = earned.GetProperty("data").Str("awardId");
        await Training.EventAsync(Api, "certification.expiringSoon", e => e.GetProperty("data").Str("awardId") == awardId, TimeSpan.FromSeconds(180));
        var expired = await Training.EventAsync(Api, "certification.expired", e => e.GetProperty("data").Str("awardId") == awardId, TimeSpan.FromSeconds(180));
        expired.GetProperty("data").Str("status").Should().Be("Expired");
        (await Api.WorkflowFinishedAsync("award-" + awardId)).Should().Be(Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Completed);
        var code = (await (await sam.GetAsync("people/me/certifications")).JsonAsync()).GetProperty("awards").EnumerateArray().Single(a => a.Str("id") == awardId).Str("verificationCode");
        (await (await Api.Anonymous.GetAsync($"certifications/verify/{code}")).JsonAsync()).Str("status").Should().Be("Expired");
        var mails = await Responses.EventuallyAsync(async () => await (await Api.Anonymous.GetAsync("dev/mail?limit=500")).Content.ReadAsStringAsync(), m => m.Contains("Short-lived certification: expires soon") && m.Contains("Short-lived certification: expired\""));
        mails.Should().Contain("Short-lived certification: expired, in its grace period");
    }
}
