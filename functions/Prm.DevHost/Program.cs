using Prm.DevHost;

// One command: dotnet run --project functions/Prm.DevHost
await using var host = await LocalHost.StartAsync(args);
var lifetime = host.App.Lifetime;
Console.WriteLine();
Console.WriteLine($"PrmFunctions local host is listening on {host.BaseUrl}");
Console.WriteLine($"  Portal:        {host.BaseUrl[..^"/api".Length]}{PortalEndpoints.BasePath}  (open it in a browser and pick a demo user)");
Console.WriteLine($"  Health:        GET  {host.BaseUrl}/health");
Console.WriteLine($"  OpenAPI:       GET  {host.BaseUrl}/openapi.json");
if (host.App.Environment.IsDevelopment())
{
    Console.WriteLine($"  Sign in:       POST {host.BaseUrl}/dev/token  {{\"email\": \"admin@vendor.example\"}}");
    Console.WriteLine($"  Mail outbox:   GET  {host.BaseUrl}/dev/mail/view");
    Console.WriteLine("  Demo users:");
    foreach (var user in DemoSeed.Users) Console.WriteLine($"    {user.Email,-26} {user.Role}{(user.Company is null ? "" : ", " + user.Company)}");
}
Console.WriteLine($"  Durable backend: {host.Durable.Kind}");
Console.WriteLine(host.Azurite is { Started: true } ? $"  Azurite PID {host.Azurite.ProcessId} is stopped when you press Ctrl+C." : "  Storage: configured or reused Azurite (left running).");
Console.WriteLine("Press Ctrl+C to stop.");
await host.App.WaitForShutdownAsync();
