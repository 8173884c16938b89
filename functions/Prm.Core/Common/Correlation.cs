namespace Prm.Core.Common;

/// <summary>The correlation id of the current request or workflow step, flowing with the async context.</summary>
public static class Correlation
{
    private static readonly AsyncLocal<string?> Current = new();

    public static string? Id
    {
        get => Current.Value;
        set => Current.Value = value;
    }
}
