using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Prm.Infra.Tests;

/// <summary>
/// The ARM JSON that <c>bicep build</c> produced, flattened: every resource of every nested deployment
/// (one per Bicep module), with ARM expressions made comparable by inlining parameters passed down from
/// the parent deployment and variables of the same template.
/// </summary>
internal sealed class CompiledTemplate
{
    private CompiledTemplate(JsonObject root, IReadOnlyList<TemplateResource> resources)
    {
        Root = root;
        Resources = resources;
    }

    public JsonObject Root { get; }

    /// <summary>Every resource that the deployment creates (existing-resource references excluded), nested deployments included.</summary>
    public IReadOnlyList<TemplateResource> Resources { get; }

    public static CompiledTemplate Load(string armJsonPath)
    {
        var root = JsonNode.Parse(File.ReadAllText(armJsonPath))!.AsObject();
        var resources = new List<TemplateResource>();
        Collect(new TemplateScope(root, passedParameters: null, parent: null, deploymentName: null), conditions: [], resources);
        return new CompiledTemplate(root, resources);
    }

    public IEnumerable<TemplateResource> OfType(string type) =>
        Resources.Where(r => string.Equals(r.Type, type, StringComparison.OrdinalIgnoreCase));

    private static void Collect(TemplateScope scope, IReadOnlyList<string> conditions, List<TemplateResource> into)
    {
        foreach (var resource in EnumerateResources(scope.Template))
        {
            if (resource["existing"]?.GetValue<bool>() == true)
            {
                continue;
            }

            var own = conditions.ToList();
            if (resource["condition"] is { } condition)
            {
                own.Add(scope.Resolve(condition));
            }

            var item = new TemplateResource(resource, scope, own);
            into.Add(item);

            if (item.Type == "Microsoft.Resources/deployments" && resource["properties"]?["template"] is JsonObject nested)
            {
                var passed = resource["properties"]?["parameters"] as JsonObject;
                Collect(new TemplateScope(nested, passed, scope, item.Name), own, into);
            }
        }
    }

    private static IEnumerable<JsonObject> EnumerateResources(JsonObject template) =>
        template["resources"] switch
        {
            JsonArray array => array.OfType<JsonObject>(),
            JsonObject symbolic => symbolic.Select(p => p.Value).OfType<JsonObject>(), // languageVersion 2.0
            _ => [],
        };
}

/// <summary>One resource of the compiled template and the template it was declared in.</summary>
internal sealed class TemplateResource(JsonObject json, TemplateScope scope, IReadOnlyList<string> conditions)
{
    public JsonObject Json { get; } = json;

    public TemplateScope Scope { get; } = scope;

    /// <summary>Resolved conditions of the resource and of every enclosing module; empty = always deployed.</summary>
    public IReadOnlyList<string> Conditions { get; } = conditions;

    public string Type => Json["type"]!.GetValue<string>();

    /// <summary>The resolved name expression, e.g. <c>'prm-events'</c> or <c>format('{0}/{1}', ...)</c>.</summary>
    public string Name => Scope.Resolve(Json["name"]);

    public JsonNode? Property(string path)
    {
        JsonNode? node = Json["properties"];
        foreach (var segment in path.Split('.'))
        {
            node = node is JsonObject obj ? obj[segment] : null;
        }

        return node;
    }

    /// <summary>Resolved text of a node: literal strings quoted ('x'), expressions without brackets.</summary>
    public string Resolve(JsonNode? node) => Scope.Resolve(node);

    public override string ToString() => $"{Type} {Name}";
}

/// <summary>A template (root or nested) together with the parameter values its parent passed in.</summary>
internal sealed class TemplateScope
{
    private static readonly Regex Reference = new(@"\b(?<kind>parameters|variables)\('(?<name>[^']+)'\)(?<members>(?:\.[A-Za-z_][\w]*)*)");

    private readonly JsonObject? _passedParameters;
    private readonly TemplateScope? _parent;

    public TemplateScope(JsonObject template, JsonObject? passedParameters, TemplateScope? parent, string? deploymentName)
    {
        Template = template;
        _passedParameters = passedParameters;
        _parent = parent;
        DeploymentName = deploymentName;
    }

    public JsonObject Template { get; }

    /// <summary>Resolved name of the nested deployment (module) this template belongs to; null for the root template.</summary>
    public string? DeploymentName { get; }

    /// <summary>
    /// Turns a JSON value into comparable expression text: a literal string becomes <c>'text'</c>, an ARM
    /// expression <c>[f(x)]</c> becomes <c>f(x)</c> with every <c>parameters('p')</c> passed from the parent
    /// and every <c>variables('v')</c> of this template replaced by their own resolved text.
    /// </summary>
    public string Resolve(JsonNode? node) => node switch
    {
        null => "null",
        JsonValue value when value.TryGetValue<string>(out var text) => ResolveString(text),
        JsonValue value => value.ToJsonString(),
        _ => node.ToJsonString(new JsonSerializerOptions { WriteIndented = false }),
    };

    private static bool IsExpression(string text) => text.StartsWith('[') && text.EndsWith(']') && !text.StartsWith("[[", StringComparison.Ordinal);

    private static string Quote(string literal) => "'" + literal.Replace("'", "''", StringComparison.Ordinal) + "'";

    private string ResolveString(string text)
    {
        if (!IsExpression(text))
        {
            return Quote(text.StartsWith("[[", StringComparison.Ordinal) ? text[1..] : text);
        }

        // Outputs of sibling modules are resolved first and parked behind placeholders, so that their
        // (already resolved) text is not substituted a second time in this scope.
        var parked = new List<string>();
        var expression = InlineModuleOutputs(text[1..^1], parked);

        expression = Reference.Replace(expression, match =>
        {
            var name = match.Groups["name"].Value;
            var members = match.Groups["members"].Value.Split('.', StringSplitOptions.RemoveEmptyEntries);
            var found = match.Groups["kind"].Value == "parameters" ? LookUpParameter(name) : LookUpVariable(name);
            if (found is null)
            {
                return match.Value; // a parameter of the root template: stays symbolic
            }

            var (node, scope) = found.Value;
            var consumed = 0;
            while (consumed < members.Length)
            {
                if (node is JsonObject obj && obj.ContainsKey(members[consumed]))
                {
                    node = obj[members[consumed]];
                    consumed++;
                }
                else if (node is JsonValue alias && alias.TryGetValue<string>(out var aliasText) &&
                         PlainReference.Match(aliasText) is { Success: true } plain &&
                         (plain.Groups["kind"].Value == "parameters" ? scope.LookUpParameter(plain.Groups["name"].Value) : scope.LookUpVariable(plain.Groups["name"].Value)) is { } target)
                {
                    (node, scope) = target; // e.g. abbrs -> [variables('$fxv#0')] (loadJsonContent)
                }
                else
                {
                    break;
                }
            }

            var resolved = scope.Resolve(node);
            var rest = string.Concat(members.Skip(consumed).Select(m => "." + m));
            return rest.Length == 0 ? resolved : $"({resolved}){rest}";
        });

        for (var i = 0; i < parked.Count; i++)
        {
            expression = expression.Replace(Placeholder(i), parked[i], StringComparison.Ordinal);
        }

        return expression;
    }

    private static string Placeholder(int index) => $"\u0001{index}\u0001";

    /// <summary>
    /// Replaces <c>reference(...'Microsoft.Resources/deployments', 'm'...).outputs.o.value</c> with the resolved
    /// value of output o of module m, so an expression can be followed into the module that produced it.
    /// </summary>
    private string InlineModuleOutputs(string expression, List<string> parked)
    {
        var result = new System.Text.StringBuilder();
        var position = 0;
        while (true)
        {
            var start = expression.IndexOf("reference(", position, StringComparison.Ordinal);
            if (start < 0 || (start > 0 && (char.IsLetterOrDigit(expression[start - 1]) || expression[start - 1] == '_')))
            {
                if (start < 0)
                {
                    break;
                }

                result.Append(expression, position, start + 1 - position);
                position = start + 1;
                continue;
            }

            var close = MatchingParenthesis(expression, start + "reference".Length);
            var tail = close < 0 ? null : OutputAccess.Match(expression, close + 1);
            var deployment = close < 0 ? null : ModuleReference.Match(expression[start..(close + 1)]);
            var module = deployment is { Success: true } ? FindModule(deployment.Groups["module"].Value) : null;
            if (tail is not { Success: true } || tail.Index != close + 1 || module is null ||
                module.Value.Template["outputs"]?[tail.Groups["output"].Value] is not JsonObject output)
            {
                result.Append(expression, position, start + 1 - position);
                position = start + 1;
                continue;
            }

            parked.Add($"({module.Value.Scope.Resolve(output["value"])})");
            result.Append(expression, position, start - position).Append(Placeholder(parked.Count - 1));
            position = tail.Index + tail.Length;
        }

        result.Append(expression, position, expression.Length - position);
        return result.ToString();
    }

    private static readonly Regex PlainReference = new(@"^\[(?<kind>parameters|variables)\('(?<name>[^']+)'\)\]$");

    private static readonly Regex OutputAccess = new(@"\G\.outputs\.(?<output>\w+)\.value");

    private static readonly Regex ModuleReference = new(@"'Microsoft\.Resources/deployments', '(?<module>[^']+)'\)");

    /// <summary>Index of the parenthesis closing the one at <paramref name="open"/>, skipping 'string literals'.</summary>
    private static int MatchingParenthesis(string text, int open)
    {
        var depth = 0;
        var inString = false;
        for (var i = open; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\'')
            {
                inString = !inString; // '' inside a literal toggles twice: net effect none
            }
            else if (!inString && c == '(')
            {
                depth++;
            }
            else if (!inString && c == ')' && --depth == 0)
            {
                return i;
            }
        }

        return -1;
    }

    private (JsonObject Template, TemplateScope Scope)? FindModule(string name)
    {
        var resources = Template["resources"] switch
        {
            JsonArray array => array.OfType<JsonObject>(),
            JsonObject symbolic => symbolic.Select(p => p.Value).OfType<JsonObject>(),
            _ => [],
        };
        foreach (var resource in resources)
        {
            if (resource["type"]?.GetValue<string>() == "Microsoft.Resources/deployments" &&
                resource["name"]?.GetValue<string>() == name &&
                resource["properties"]?["template"] is JsonObject nested)
            {
                var passed = resource["properties"]?["parameters"] as JsonObject;
                return (nested, new TemplateScope(nested, passed, this, Quote(name)));
            }
        }

        return null;
    }

    private (JsonNode? Node, TemplateScope Scope)? LookUpParameter(string name)
    {
        if (_parent is not null && _passedParameters?[name] is { } passed)
        {
            if (passed is JsonObject entry && entry.ContainsKey("value"))
            {
                return (entry["value"], _parent);
            }

            if (passed is JsonValue conditional && conditional.TryGetValue<string>(out var expression) && IsExpression(expression))
            {
                // A conditional module parameter compiles to if(c, createObject('value', a), createObject('value', b)).
                return (JsonValue.Create($"[({expression[1..^1]}).value]"), _parent);
            }
        }

        if (_parent is not null && Template["parameters"]?[name]?["defaultValue"] is { } defaultValue)
        {
            return (defaultValue, this);
        }

        return null;
    }

    private (JsonNode? Node, TemplateScope Scope)? LookUpVariable(string name) =>
        Template["variables"] is JsonObject variables && variables.ContainsKey(name)
            ? (variables[name], this)
            : null;
}
