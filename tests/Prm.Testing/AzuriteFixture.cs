using Prm.DevHost;
using Prm.Storage;

namespace Prm.Testing;

/// <summary>
/// One Azurite per test process, on random free loopback ports and in memory, installed from the repository's lock file
/// when missing, stopped by PID when the process exits, and exiting by itself when the process is gone without exiting cleanly.
/// </summary>
public static class TestAzurite
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static Azurite? instance;

    public static async Task<Azurite> GetAsync()
    {
        if (instance is not null) return instance;
        await Gate.WaitAsync();
        try
        {
            if (instance is not null) return instance;
            var (blob, queue, table) = Azurite.FreePorts();
            // A generous deadline: node starting Azurite on a loaded machine (a second suite beside this one) can take a minute.
            instance = await Azurite.StartAsync(blob, queue, table, location: null, listenWithin: TimeSpan.FromSeconds(300), exitWithParent: true);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => instance.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return instance;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Storage options for a fresh, isolated set of tables (a unique table prefix per call).</summary>
    public static async Task<StorageOptions> FreshStorageAsync()
    {
        var azurite = await GetAsync();
        return new StorageOptions { ConnectionString = azurite.ConnectionString, TablePrefix = "t" + Guid.NewGuid().ToString("N")[..10] };
    }
}
