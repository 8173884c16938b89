using Azure;
using Azure.Data.Tables;

namespace Prm.Storage;

/// <summary>Storage failures that mean "someone else wrote first": the read-decide-commit loop reads again (see Prm.Core.Common.ReadDecideCommit).</summary>
public static class LostRace
{
    /// <summary>409 (the row was added meanwhile) or 412 (the ETag is stale), from a single operation or a transaction.</summary>
    public static bool IsConflict(Exception ex) => ex switch
    {
        TableTransactionFailedException t => t.Status is 409 or 412,
        RequestFailedException r => r.Status is 409 or 412,
        _ => false,
    };

    /// <summary>The same, plus 404 (the row was deleted meanwhile).</summary>
    public static bool IsConflictOrGone(Exception ex) => IsConflict(ex) || ex is RequestFailedException { Status: 404 };
}
