using FluentValidation;
using FluentValidation.Results;

namespace Prm.Core.Common;

/// <summary>Runs FluentValidation validators and turns failures into one <see cref="ValidationFailedException"/> with camelCase field paths.</summary>
public static class Validate
{
    /// <summary>Field names in messages and error keys are camelCase JSON paths, for every validator in the process.</summary>
#pragma warning disable CA2255 // the rule is global configuration of this library's own validators
    [System.Runtime.CompilerServices.ModuleInitializer]
    internal static void Configure()
    {
        ValidatorOptions.Global.PropertyNameResolver = (_, member, expression) =>
            member is null ? null : JsonPath(member.Name);
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) => member is null ? null : JsonPath(member.Name);
    }
#pragma warning restore CA2255

    /// <summary>Throws when the instance is null (400 "body required") or fails validation.</summary>
    public static T Body<T>(T? instance, IValidator<T> validator) where T : class
    {
        if (instance is null) throw new ValidationFailedException("body", "A JSON request body is required.");
        Throw(validator.Validate(instance));
        return instance;
    }

    public static void Throw(ValidationResult result)
    {
        if (result.IsValid) return;
        var errors = result.Errors
            .GroupBy(e => CamelPath(e.PropertyName))
            .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).Distinct().ToArray());
        throw new ValidationFailedException(errors, string.Join(" ", errors.Select(e => e.Value[0])));
    }

    private static string JsonPath(string name) => char.ToLowerInvariant(name[0]) + name[1..];

    private static string CamelPath(string path) => string.Join('.', path.Split('.').Select(p => p.Length == 0 ? p : char.ToLowerInvariant(p[0]) + p[1..]));
}

/// <summary>Rules shared by validators.</summary>
public static class Rules
{
    public static IRuleBuilderOptions<T, string?> Email<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(v => v is null || Text.NormalizeEmail(v) is not null).WithMessage("{PropertyName} must be an email address.");

    public static IRuleBuilderOptions<T, string?> Domain<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(v => v is null || Text.NormalizeDomain(v) is not null).WithMessage("{PropertyName} must be a domain name such as example.com.");

    public static IRuleBuilderOptions<T, string?> Country<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(v => v is null || Text.IsCountryCode(v)).WithMessage("{PropertyName} must be an ISO 3166-1 alpha-2 code such as DE.");

    public static IRuleBuilderOptions<T, string?> EnumText<T, TEnum>(this IRuleBuilder<T, string?> rule) where TEnum : struct, Enum =>
        rule.Must(v => v is null || Text.ParseEnum<TEnum>(v) is not null)
            .WithMessage("{PropertyName} must be one of: " + string.Join(", ", Enum.GetValues<TEnum>().Select(v => typeof(TEnum).Name.EndsWith("Status", StringComparison.Ordinal) || typeof(TEnum).Name.EndsWith("Role", StringComparison.Ordinal) ? v.ToString() : Text.Camel(v))) + ".");

    public static IRuleBuilderOptions<T, string?> Url<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(v => v is null || (Uri.TryCreate(v, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttps || u.Scheme == Uri.UriSchemeHttp)))
            .WithMessage("{PropertyName} must be an http(s) URL.");
}
