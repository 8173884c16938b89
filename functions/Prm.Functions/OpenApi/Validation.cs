using System.Reflection;
using System.Text.Json;
using FluentValidation;
using FluentValidation.Validators;
using Microsoft.OpenApi;

namespace Prm.Functions.OpenApi;

/// <summary>
/// Carries the rules of a request type's FluentValidation validator into its schema: unconditional NotNull/NotEmpty make a property
/// required, MaximumLength/Length give maxLength, EmailAddress the email format. Validators whose constructors need services are skipped.
/// </summary>
internal static class Validation
{
    public static void Apply(Type type, OpenApiSchema schema)
    {
        if (Create(type) is not { } validator) return;
        var descriptor = validator.CreateDescriptor();
        foreach (var member in descriptor.GetMembersWithValidators())
        {
            if (member.Key is null || member.Key.Contains('.')) continue;
            var json = JsonNamingPolicy.CamelCase.ConvertName(member.Key);
            if (schema.Properties?.TryGetValue(json, out var property) != true) continue;
            foreach (var (rule, options) in member)
            {
                var unconditional = !options.HasCondition && !options.HasAsyncCondition;
                switch (rule)
                {
                    case INotNullValidator or INotEmptyValidator when unconditional:
                        schema.Required!.Add(json);
                        break;
                    case ILengthValidator length when property is OpenApiSchema { Type: { } t } s && t.HasFlag(JsonSchemaType.String):
                        if (length.Max > 0) s.MaxLength = length.Max;
                        if (length.Min > 0) s.MinLength = length.Min;
                        break;
                    case IEmailValidator when property is OpenApiSchema { Type: { } t } s && t.HasFlag(JsonSchemaType.String):
                        s.Format = "email";
                        break;
                }
            }
        }
    }

    private static IValidator? Create(Type type)
    {
        var validatorType = typeof(IValidator<>).MakeGenericType(type);
        var candidate = type.Assembly.GetTypes().FirstOrDefault(t => !t.IsAbstract && validatorType.IsAssignableFrom(t));
        if (candidate is null) return null;
        foreach (var constructor in candidate.GetConstructors().OrderBy(c => c.GetParameters().Length))
        {
            var parameters = constructor.GetParameters();
            var arguments = new object?[parameters.Length];
            var ok = true;
            for (var i = 0; i < parameters.Length; i++)
            {
                var p = parameters[i];
                if (p.HasDefaultValue) arguments[i] = p.DefaultValue;
                else if (p.ParameterType == typeof(TimeProvider)) arguments[i] = TimeProvider.System;
                else { ok = false; break; }
            }
            if (!ok) continue;
            try
            {
                return (IValidator)constructor.Invoke(arguments);
            }
            catch (TargetInvocationException)
            {
                return null;
            }
        }
        return null;
    }
}
