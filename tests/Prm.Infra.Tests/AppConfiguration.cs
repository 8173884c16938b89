using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Prm.Infra.Tests;

/// <summary>
/// What the application reads from configuration, taken from the repository at test time so the
/// infrastructure checks follow the code: the keys of local.settings.sample.json, and the options
/// properties marked [LocalDevelopmentOnly] or [SecretSetting] in the C# sources.
/// </summary>
internal static class AppConfiguration
{
    /// <summary>Keys that are never app settings on Flex Consumption whatever the code says.</summary>
    public static readonly IReadOnlyDictionary<string, string> PlatformReplacedKeys = new Dictionary<string, string>
    {
        ["FUNCTIONS_WORKER_RUNTIME"] = "on Flex Consumption the runtime is functionAppConfig.runtime, and the app setting is rejected",
        ["AzureWebJobsStorage"] = "replaced by the identity-based AzureWebJobsStorage__* settings",
    };

    private static readonly string[] SourceFolders = ["functions", "durable-workflows"];

    private static readonly Regex SectionName = new(@"const\s+string\s+SectionName\s*=\s*""(?<section>[^""]+)""");

    private static readonly Regex AttributedProperty = new(
        @"(?<attributes>(?:\[[^\[\]]*\]\s*)+)public\s+(?:required\s+)?[\w?<>,.\[\] ]+?\s+(?<name>\w+)\s*\{\s*(?:get|init|set)");

    /// <summary>Every key under "Values" in local.settings.sample.json.</summary>
    public static IReadOnlyList<string> SampleKeys()
    {
        var json = JsonNode.Parse(File.ReadAllText(RepoPaths.LocalSettingsSample))!;
        var values = json["Values"] as JsonObject
            ?? throw new InvalidOperationException("local.settings.sample.json has no Values object.");
        return values.Select(p => p.Key).ToList();
    }

    /// <summary>Configuration keys (Section__Property) of options properties carrying the given attribute.</summary>
    public static IReadOnlySet<string> KeysMarkedWith(string attributeName)
    {
        var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var file in SourceFiles())
        {
            var text = File.ReadAllText(file);
            // A file may hold several options classes; each declares its own SectionName.
            var classStarts = Regex.Matches(text, @"\bclass\s+\w+").Select(m => m.Index).Append(text.Length).ToList();
            for (var i = 0; i < classStarts.Count - 1; i++)
            {
                var body = text[classStarts[i]..classStarts[i + 1]];
                var section = SectionName.Match(body);
                if (!section.Success)
                {
                    continue;
                }

                foreach (Match property in AttributedProperty.Matches(body))
                {
                    if (HasAttribute(property.Groups["attributes"].Value, attributeName))
                    {
                        keys.Add($"{section.Groups["section"].Value}__{property.Groups["name"].Value}");
                    }
                }
            }
        }

        return keys;
    }

    private static bool HasAttribute(string attributeLists, string attributeName) =>
        Regex.IsMatch(attributeLists, $@"(?<![\w])(?:[\w.]+\.)?{Regex.Escape(attributeName)}(?:Attribute)?\b(?!\.)");

    private static IEnumerable<string> SourceFiles() =>
        SourceFolders
            .Select(folder => Path.Combine(RepoPaths.Root, folder))
            .Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories))
            .Where(path => !path.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"));
}
