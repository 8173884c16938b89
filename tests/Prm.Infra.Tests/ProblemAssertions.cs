namespace Prm.Infra.Tests;

internal static class ProblemAssertions
{
    /// <summary>Fails with every problem listed (FluentAssertions' BeEmpty shows only the first).</summary>
    public static void ShouldBeNone(this IReadOnlyList<string> problems)
    {
        if (problems.Count > 0)
        {
            throw new Xunit.Sdk.XunitException($"{problems.Count} problem(s):\n- " + string.Join("\n- ", problems));
        }
    }
}
