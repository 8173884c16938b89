using Prm.Core.Identity;

namespace Prm.Core.Onboarding;

/// <summary>What a caller asks to do with partner applications.</summary>
public enum ApplicationOperation
{
    /// <summary>Read an application, its timeline, a decision link's page.</summary>
    Read,

    /// <summary>Approve, reject or request information.</summary>
    Decide,
}

/// <summary>
/// Who may do what with partner applications — the one place for it. Applications are vendor business: an application a caller may not
/// read does not exist for them (404), and only vendor staff list them (403 for anyone else).
/// <list type="bullet">
/// <item>Program admins read and decide every application, and list all of them or one assignee's.</item>
/// <item>Channel managers read and decide the applications assigned to them, and list only those.</item>
/// <item>Partner users and applicants have no access (the applicant follows the application through the signed status link).</item>
/// </list>
/// </summary>
public static class ApplicationAccess
{
    /// <summary>Whether the caller may address applications at all (before anything is read): vendor staff only.</summary>
    public static bool MayAddress(Caller caller) => caller.IsVendor;

    /// <summary>Whether the caller may do <paramref name="operation"/> with <paramref name="application"/>.</summary>
    public static bool Allows(Caller caller, ApplicationOperation operation, PartnerApplication application) => operation switch
    {
        ApplicationOperation.Read or ApplicationOperation.Decide => IsReviewer(caller, application),
        _ => false,
    };

    /// <summary>
    /// The assignee whose applications a list may show the caller (null: everyone's); <see cref="ApplicationListScope.Denied"/> when the
    /// caller may not list what it asks for.
    /// </summary>
    public static ApplicationListScope ListScope(Caller caller, string? assigneeId)
    {
        if (!caller.IsVendor) return ApplicationListScope.Denied;
        if (caller.IsAdmin) return new ApplicationListScope(true, assigneeId);
        return assigneeId is null || assigneeId == caller.UserId ? new ApplicationListScope(true, caller.UserId) : ApplicationListScope.Denied;
    }

    /// <summary>Admins, and the channel manager the application is assigned to.</summary>
    private static bool IsReviewer(Caller caller, PartnerApplication application) =>
        caller.IsVendor && (caller.IsAdmin || application.AssigneeId == caller.UserId);
}

/// <summary>The rows an application list may show: whether it may list at all, and one assignee's applications or (null) everyone's.</summary>
public sealed record ApplicationListScope(bool Allowed, string? AssigneeId)
{
    public static readonly ApplicationListScope Denied = new(false, null);
}
