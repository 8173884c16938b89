using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Prm.Core.Common;
using Prm.Core.Identity;

namespace Prm.Functions.Http;

/// <summary>
/// The one place every HTTP request passes in every host: correlation id, authentication (Microsoft.Identity.Web bearer),
/// caller resolution, the function's declared access policy, and problem responses for every failure.
/// </summary>
public sealed class RequestGate(CallerResolver callers, IdempotentCreates idempotency, ILogger<RequestGate> log)
{
    public const string CorrelationHeader = "x-correlation-id";

    /// <summary>Runs <paramref name="next"/> for the function if the request may reach it; writes a problem response otherwise.</summary>
    public async Task RunAsync(HttpContext context, HttpFunction? function, Func<Task> next)
    {
        var correlation = context.Request.Headers[CorrelationHeader].FirstOrDefault();
        if (string.IsNullOrWhiteSpace(correlation) || correlation.Length > 100) correlation = Problems.TraceId(context);
        Correlation.Id = correlation;
        context.Response.Headers[CorrelationHeader] = correlation;
        try
        {
            if (function?.Policy is not { } policy)
            {
                // A function without a declared policy is closed, never open by accident.
                throw new ForbiddenException("This function declares no access policy.");
            }
            if (policy != AccessPolicy.Anonymous)
            {
                var result = await context.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
                if (!result.Succeeded || result.Principal is null)
                {
                    throw new UnauthenticatedException(result.Failure is null ? "A bearer access token is required." : "The access token is invalid or expired.");
                }
                context.User = result.Principal;
                RequireGrant(result.Principal);
                if (policy == AccessPolicy.TokenOnly)
                {
                    await next();
                    return;
                }
                var caller = await callers.ResolveAsync(result.Principal, context.RequestAborted);
                if (!AccessRules.Allows(policy, caller))
                {
                    throw new ForbiddenException("Your role does not allow this operation.");
                }
                context.Items[typeof(Caller)] = caller;
                // Emails this command causes carry who caused it: nobody is emailed about their own action.
                Acting.Caller = caller;
                if (!await idempotency.BeginAsync(context, function, caller)) return;
            }
            // What no route takes answers 404/405 whatever its headers: it is no operation that could lose an update.
            if (function != FunctionCatalog.Unmatched) RefuseWildcardIfMatch(context.Request);
            await next();
        }
        catch (Exception ex)
        {
            try
            {
                await IdempotentCreates.ReleaseAsync(context);
            }
            catch (Exception release) when (release is Azure.RequestFailedException or OperationCanceledException or HttpRequestException)
            {
                log.LogWarning(release, "The Idempotency-Key of a failed {Method} {Path} could not be given back; it frees itself after {Seconds} s", context.Request.Method, context.Request.Path, IdempotentCreates.RunningFor.TotalSeconds);
            }
            var problem = Problems.From(ex, context);
            if (problem.Status >= 500) log.LogError(ex, "Request {Method} {Path} failed", context.Request.Method, context.Request.Path);
            await Problems.WriteAsync(context, problem);
        }
    }

    /// <summary>
    /// What the token grants this API: a delegated (user) token — one with scp — must grant the API's scope (403 otherwise); an app-only
    /// token — without scp — must carry an app role (401 otherwise, as Microsoft.Identity.Web answers a token with neither).
    /// </summary>
    public static void RequireGrant(System.Security.Claims.ClaimsPrincipal principal)
    {
        var scopes = principal.FindFirst("scp")?.Value ?? principal.FindFirst("http://schemas.microsoft.com/identity/claims/scope")?.Value;
        if (scopes is not null)
        {
            if (!scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(AppRoles.ApiScope, StringComparer.Ordinal))
                throw new ForbiddenException($"The token does not grant the scope {AppRoles.ApiScope} of this API.");
            return;
        }
        if (!principal.FindAll("roles").Any() && !principal.FindAll(System.Security.Claims.ClaimTypes.Role).Any())
            throw new UnauthenticatedException("The token grants neither the API's scope nor an app role.");
    }

    /// <summary>
    /// A PATCH or PUT replaces what the caller read: "If-Match: *" would overwrite whatever is there now (a lost update), so no route
    /// accepts it (428, like a missing If-Match). One place for every route.
    /// </summary>
    public static void RefuseWildcardIfMatch(HttpRequest request)
    {
        if (!HttpMethods.IsPatch(request.Method) && !HttpMethods.IsPut(request.Method)) return;
        if (request.Headers.IfMatch.Any(v => v?.Split(',').Any(tag => tag.Trim() == "*") == true))
        {
            throw new PreconditionFailedException("If-Match: * is not accepted: send the ETag you read, so a change made meanwhile is not overwritten.", required: true);
        }
    }
}

/// <summary>What functions read from a request.</summary>
public static class RequestExtensions
{
    /// <summary>The signed-in caller the gate resolved (functions with an Anonymous policy have none).</summary>
    public static Caller Caller(this HttpRequest request) =>
        request.HttpContext.Items.TryGetValue(typeof(Caller), out var caller) && caller is Caller c
            ? c
            : throw new UnauthenticatedException("A bearer access token is required.");

    public static string? IfMatch(this HttpRequest request)
    {
        var value = request.Headers.IfMatch.FirstOrDefault();
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    public static string? Query(this HttpRequest request, string name)
    {
        var value = request.Query[name].FirstOrDefault();
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    public static PageRequest Paging(this HttpRequest request) => PageRequest.From(request.Query("limit"), request.Query("cursor"));

    /// <summary>A boolean query flag: true/false/1/0, 400 otherwise.</summary>
    public static bool Flag(this HttpRequest request, string name, bool fallback = false)
    {
        var value = request.Query(name);
        return value?.ToLowerInvariant() switch
        {
            null => fallback,
            "true" or "1" => true,
            "false" or "0" => false,
            _ => throw new ValidationFailedException(name, $"{name} must be true or false."),
        };
    }
}
