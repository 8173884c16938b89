namespace Prm.Core.Identity;

/// <summary>
/// The person whose command is running (the request's caller, or the recipient acting through a decision link), flowing with the async
/// context as the correlation id does: emails composed while it runs carry who caused them, so nobody is emailed about their own action.
/// </summary>
public static class Acting
{
    private static readonly AsyncLocal<Caller?> Current = new();

    public static Caller? Caller
    {
        get => Current.Value;
        set => Current.Value = value;
    }
}
