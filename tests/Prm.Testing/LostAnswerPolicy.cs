using Azure.Core;
using Azure.Core.Pipeline;

namespace Prm.Testing;

/// <summary>
/// Loses the answer of the next requests that match: the request goes through to storage, then the attempt fails as a network timeout
/// does, so the storage client resends it (its retry policy) and the resend meets what the first send wrote. What a loaded machine does
/// to a request now and then (the client's 30 s network timeout).
/// </summary>
public sealed class LostAnswerPolicy : HttpPipelinePolicy
{
    private readonly Lock gate = new();
    private readonly List<(Func<HttpMessage, bool> Match, int Left)> rules = [];

    /// <summary>How many answers were lost.</summary>
    public int Lost { get; private set; }

    /// <summary>Loses the answer of the next request of <paramref name="method"/> whose path contains <paramref name="pathPart"/>.</summary>
    public void LoseNext(string method, string pathPart) =>
        LoseNext(m => m.Request.Method.ToString() == method && m.Request.Uri.Path.Contains(pathPart, StringComparison.Ordinal));

    public void LoseNext(Func<HttpMessage, bool> match)
    {
        lock (gate) rules.Add((match, 1));
    }

    private bool Take(HttpMessage message)
    {
        lock (gate)
        {
            var i = rules.FindIndex(r => r.Left > 0 && r.Match(message));
            if (i < 0) return false;
            rules[i] = (rules[i].Match, rules[i].Left - 1);
            Lost++;
            return true;
        }
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var lose = Take(message);
        await ProcessNextAsync(message, pipeline);
        if (lose) throw new IOException("The answer was lost (test): the client resends the request.");
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var lose = Take(message);
        ProcessNext(message, pipeline);
        if (lose) throw new IOException("The answer was lost (test): the client resends the request.");
    }
}
