using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Prm.Core.Identity;
using Prm.Core.Training;
using Prm.Functions.Http;
using Prm.Functions.OpenApi;

namespace Prm.Functions.Training;

/// <summary>Courses and exams: the catalog (admin), attempts and submits (partner users), stats (vendor), xAPI mapping.</summary>
public sealed class CourseFunctions(CourseCatalog courses, TakeExam exams)
{
    [Function("CreateCourse")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Create a course", "title, description, productLines, track (sales, presales, technical), modules (text: body, video: https url, asset: assetId), optional exam (question bank with single/multiple choice and points, questionsPerAttempt, passScore 1-100 (default 80), maxAttempts per 30 days (3), cooldownHours after a failure (24), timeLimitMinutes (30)). publish: true publishes at once. Correct answers are never returned.",
        Request = typeof(CourseRequest), Response = typeof(CourseDto), Status = 201)]
    public async Task<IActionResult> Create([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "courses")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var course = await courses.CreateAsync(req.Caller(), await ApiJson.ReadAsync<CourseRequest>(req, ct), ct);
        return Api.Created(course.Value, $"/api/courses/{course.Value.Id}", course.ETag);
    }

    [Function("ListCourses")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("List courses", "Published courses (admins also see drafts), by title.", Response = typeof(ListResponse<CourseDto>))]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "courses")] HttpRequest req, CancellationToken ct) =>
        Api.Ok(new ListResponse<CourseDto>(await courses.ListAsync(req.Caller(), ct), null));

    [Function("GetCourse")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("Read a course", "Its modules and exam rules (never the questions' answers). The ETag header is the version for If-Match.", Response = typeof(CourseDto))]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "courses/{courseId}")] HttpRequest req, string courseId, CancellationToken ct) =>
        Api.Versioned(await courses.GetAsync(req.Caller(), courseId, ct));

    [Function("UpdateCourse")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Edit a course", "Replaces the content; If-Match is required. An edit after publication creates a new version (attempts and passes keep the version they were taken on).",
        Request = typeof(CourseRequest), Response = typeof(CourseDto), IfMatch = true)]
    public async Task<IActionResult> Update([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "courses/{courseId}")] HttpRequest req, [DurableClient] DurableTaskClient durable, string courseId, CancellationToken ct) =>
        Api.Versioned(await courses.UpdateAsync(req.Caller(), courseId, req.IfMatch(), await ApiJson.ReadAsync<CourseRequest>(req, ct), ct));

    [Function("PublishCourse")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Publish a course", "Makes it visible and its exam available; publishing a published course changes nothing.", Response = typeof(CourseDto))]
    public async Task<IActionResult> Publish([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "courses/{courseId}/publish")] HttpRequest req, [DurableClient] DurableTaskClient durable, string courseId, CancellationToken ct) =>
        Api.Versioned(await courses.PublishAsync(req.Caller(), courseId, ct));

    [Function("MapCourseActivities")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Map xAPI activities to a course", "activityIds: the activity ids (absolute IRIs, at most 20) whose passed/completed statements complete the course; replaces the list. An id mapped to another course is 409.",
        Request = typeof(ExternalActivitiesRequest), Response = typeof(CourseDto))]
    public async Task<IActionResult> MapActivities([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "courses/{courseId}/external-activities")] HttpRequest req, [DurableClient] DurableTaskClient durable, string courseId, CancellationToken ct) =>
        Api.Versioned(await courses.MapActivitiesAsync(req.Caller(), courseId, await ApiJson.ReadAsync<ExternalActivitiesRequest>(req, ct), ct));

    [Function("InvalidateOlderCourseAwards")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Invalidate awards resting on older versions of a course", "Marks the course's current version (a published course edited at least once): the certifications that rest on an older version expire at `from` (a date or instant, today up to a year ahead) and then run their grace period, unless their holder passes the new version, which restores the expiry. Holders and their partner admins get a notice at once; certification.invalidated and certification.requalified follow. Marking the same version again moves the date for awards not yet marked.",
        Request = typeof(InvalidateAwardsRequest), Response = typeof(CourseDto))]
    public async Task<IActionResult> InvalidateOlderAwards([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "courses/{courseId}/invalidate-older-awards")] HttpRequest req, [DurableClient] DurableTaskClient durable, string courseId, CancellationToken ct) =>
        Api.Versioned(await courses.InvalidateOlderAwardsAsync(req.Caller(), courseId, await ApiJson.ReadAsync<InvalidateAwardsRequest>(req, ct), ct));

    [Function("StartAttempt")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Start an exam attempt", "Draws questionsPerAttempt questions at random and returns them without answers, with the deadline (time limit). 429 with Retry-After beyond maxAttempts in 30 days or inside the cooldown after a failure; 409 while another attempt is open.",
        Response = typeof(AttemptDto), Status = 201, Errors = [429])]
    public async Task<IActionResult> Start([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "courses/{courseId}/attempts")] HttpRequest req, [DurableClient] DurableTaskClient durable, string courseId, CancellationToken ct)
    {
        var attempt = await exams.StartAsync(req.Caller(), courseId, ct);
        return Api.Created(attempt, $"/api/attempts/{attempt.Id}");
    }

    [Function("GetAttempt")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("An exam attempt", "Its taker's alone (anyone else: 404): the drawn questions without answers and the deadline; after the submit the score and pass/fail, never the correct answers.",
        Response = typeof(AttemptDto))]
    public async Task<IActionResult> GetAttempt([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "attempts/{attemptId}")] HttpRequest req, string attemptId, CancellationToken ct) =>
        Api.Ok(await exams.GetAsync(req.Caller(), attemptId, ct));

    [Function("SubmitAttempt")]
    [Access(AccessPolicy.PartnerMember)]
    [ApiOperation("Submit an attempt", "answers: [{ questionId, selected: [optionId] }]. Scored on the server, every answer recorded; after the time limit it is failed. The score and pass/fail come back, never the correct answers. A second submit is 409; an unknown question id, a duplicate answer or a foreign option is 422 naming the field. A pass may earn or renew a certification.",
        Request = typeof(SubmitAttemptRequest), Response = typeof(AttemptDto))]
    public async Task<IActionResult> Submit([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "attempts/{attemptId}/submit")] HttpRequest req, [DurableClient] DurableTaskClient durable, string attemptId, CancellationToken ct) =>
        Api.Ok(await exams.SubmitAsync(req.Caller(), attemptId, await ApiJson.ReadAsync<SubmitAttemptRequest>(req, ct), ct));

    [Function("GetCourseStats")]
    [Access(AccessPolicy.Vendor)]
    [ApiOperation("A course's figures", "People enrolled, in progress, completed, passed, failed, and the pass rate (passed over passed and failed), from the course events.", Response = typeof(CourseStats))]
    public async Task<IActionResult> Stats([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "courses/{courseId}/stats")] HttpRequest req, string courseId, CancellationToken ct) =>
        Api.Ok(await courses.StatsAsync(courseId, ct));
}

/// <summary>Certifications: definitions (admin), a person's and a partner's awards, the public verification, revocation, the certificate PDF.</summary>
public sealed class CertificationFunctions(Certifications certifications, CertificationQueries queries, TrainingNotices notices)
{
    [Function("CreateCertification")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Define a certification", "name, track, level (associate, professional, expert), requiredCourses, validityMonths (1-120, default 24), reminderDaysBefore (default [90, 60, 30, 7]), graceDays (default 30), renewal { windowDaysBefore (90), requiredCourses (default: the required courses) }. Awarded automatically when a person's path is complete.",
        Request = typeof(CertificationRequest), Response = typeof(CertificationDto), Status = 201)]
    public async Task<IActionResult> Create([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "certifications")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var definition = await certifications.CreateAsync(req.Caller(), await ApiJson.ReadAsync<CertificationRequest>(req, ct), ct);
        return Api.Created(definition, "/api/certifications");
    }

    [Function("ListCertifications")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("List certification definitions", "Every definition with its path, validity, reminders, grace and renewal rule.", Response = typeof(ListResponse<CertificationDto>))]
    public async Task<IActionResult> List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "certifications")] HttpRequest req, CancellationToken ct) =>
        Api.Ok(new ListResponse<CertificationDto>(await certifications.ListAsync(ct), null));

    [Function("VerifyCertification")]
    [Access(AccessPolicy.Anonymous)]
    [ApiOperation("Verify a certificate", "Anonymous: the person's name, the certification, its status and its dates, nothing else. A guessed or tampered code is 404.", Response = typeof(VerificationDto))]
    public async Task<IActionResult> Verify([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "certifications/verify/{code}")] HttpRequest req, string code, CancellationToken ct) =>
        Api.Ok(await queries.VerifyAsync(code, ct));

    [Function("GetMyCertifications")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("My certifications and progress", "The caller's awards (with their verification codes) and course enrollments (NotStarted, InProgress, Completed, Passed, Failed).", Response = typeof(MyCertificationsDto))]
    public async Task<IActionResult> Mine([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "people/me/certifications")] HttpRequest req, CancellationToken ct) =>
        Api.Ok(await queries.MineAsync(req.Caller(), ct));

    [Function("GetPartnerCertifications")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("A partner's certifications", "Counts of certified people by track and level (following each person's current membership), awards expiring within 60 days, and who holds what. Partner admins, the owning channel manager, admins.",
        Response = typeof(PartnerCertificationsDto))]
    public async Task<IActionResult> Partner([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "partners/{partnerId}/certifications")] HttpRequest req, string partnerId, CancellationToken ct) =>
        Api.Ok(await queries.PartnerAsync(req.Caller(), partnerId, ct));

    [Function("RevokeAward")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Revoke a certification", "reason is required. Final: the award's workflow ends, the partner's counts drop, certification.revoked is published.", Request = typeof(RevokeAwardRequest), Response = typeof(AwardDto))]
    public async Task<IActionResult> Revoke([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "awards/{awardId}/revoke")] HttpRequest req, [DurableClient] DurableTaskClient durable, string awardId, CancellationToken ct) =>
        Api.Ok(await certifications.RevokeAsync(req.Caller(), awardId, await ApiJson.ReadAsync<RevokeAwardRequest>(req, ct), ct));

    [Function("GetAwardCertificate")]
    [Access(AccessPolicy.SignedIn)]
    [ApiOperation("The certificate PDF", "The holder, the admins and channel manager of the holder's partner, admins.", ResponseContentType = "application/pdf")]
    public async Task<IActionResult> Certificate([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "awards/{awardId}/certificate")] HttpRequest req, string awardId, CancellationToken ct)
    {
        var (award, status) = await queries.AwardAsync(req.Caller(), awardId, ct);
        return new BytesApiResult(200, CertificatePdf.Render(award, status.ToString(), notices.VerifyUrl(award)), "application/pdf", $"{award.Number}.pdf");
    }
}

/// <summary>xAPI statements from external LMSs (machine clients with the app role Prm.Integration).</summary>
public sealed class XapiFunctions(XapiStatements statements, ITrainingStore store)
{
    [Function("PostXapiStatements")]
    [Access(AccessPolicy.VendorOrIntegration)]
    [ApiOperation("Record xAPI statements", "An xAPI 1.0.3 statement or an array (at most 50), from an app-only token with the app role Prm.Integration. Verbs passed and completed of an activity mapped to a course complete it for the partner user whose email is actor.mbox; voided (object: StatementRef) revokes the completion and the awards resting on it. The statement id makes a retry a no-op (outcome duplicate). Unknown actors and activities are parked for review. An unknown verb, a malformed actor or a future timestamp is 400 naming the field; a bad batch writes nothing.",
        Request = typeof(JsonElement), Response = typeof(XapiResponse))]
    public async Task<IActionResult> Post([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "xapi/statements")] HttpRequest req, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var body = await ApiJson.ReadAsync<JsonDocument>(req, ct) ?? throw new Prm.Core.Common.ValidationFailedException("body", "A JSON request body is required.");
        using (body) return Api.Ok(await statements.ReceiveAsync(req.Caller(), body.RootElement, ct));
    }

    [Function("ListParkedXapiStatements")]
    [Access(AccessPolicy.Admin)]
    [ApiOperation("Parked xAPI statements", "Statements whose actor or activity was unknown, kept for review (newest 1000).", Response = typeof(ListResponse<ParkedStatementDto>))]
    public async Task<IActionResult> Parked([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "xapi/parked")] HttpRequest req, CancellationToken ct) =>
        Api.Ok(new ListResponse<ParkedStatementDto>((await store.ListParkedAsync(ct)).Select(s => new ParkedStatementDto(s.Id, s.Verb, s.ActorEmail, s.ActivityId, s.Timestamp, s.StoredAt, s.Outcome)).ToList(), null));
}
