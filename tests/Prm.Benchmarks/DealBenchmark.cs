using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Common;
using Prm.Core.Deals;
using Prm.Storage;
using Prm.Storage.Deals;
using Prm.Testing;
using static Prm.Benchmarks.Measure;

namespace Prm.Benchmarks;

/// <summary>
/// Deal registration under load: 16 concurrent partner clients register unique customers with 1,000 and with 100,000 existing
/// registrations (seeded in batches straight into the tables, rows exactly as the API writes them), next to raw Azurite concurrent
/// inserts measured in the same run.
/// </summary>
public static class DealBenchmark
{
    private const int Clients = 16;

    public static async Task<string> RunAsync(ApiHost api, string connectionString, bool quick, Func<PrmTables, Task> settle)
    {
        var tables = api.Services.GetRequiredService<PrmTables>();
        var admin = await api.ClientAsync(Demo.Admin);
        var perClient = quick ? 10 : 50;
        var large = quick ? 10_000 : 100_000;

        Console.WriteLine($"Creating {Clients} active partners with a signed-in partner admin each...");
        var partners = new List<(string Id, string Name, HttpClient Client)>();
        for (var i = 0; i < Clients; i++)
        {
            var name = $"Deal Bench {i:00}";
            var domain = $"dealbench{i:00}-{Guid.NewGuid():N}"[..24] + ".example";
            using var created = await admin.PostAsync("partners", Responses.Json(new
            {
                name, domain, country = "DE", region = "emea", tier = "gold", partnerType = "reseller", status = "Active",
                admin = new { email = $"boss@{domain}", displayName = $"{name} Boss" },
            }));
            created.EnsureSuccessStatusCode();
            partners.Add(((await created.JsonAsync()).Str("id"), name, await api.ClientAsync($"boss@{domain}")));
        }

        Console.WriteLine("Raw Azurite concurrent inserts (after an unrecorded warm-up)...");
        await RawInsertsAsync(connectionString, 800);
        var rawBefore = await RawInsertsAsync(connectionString, quick ? 1_600 : 8_000);
        var rawReads = await RawReadsAsync(connectionString, quick ? 3_200 : 16_000);

        Console.WriteLine("Seeding 1,000 registrations...");
        var seeded = 0;
        seeded += await SeedAsync(tables, partners, seeded, 1_000);
        await settle(tables);
        var small = await MeasureAsync(partners, perClient, tables, settle);

        Console.WriteLine($"Seeding up to {large:N0} registrations...");
        var seedClock = Stopwatch.StartNew();
        seeded += await SeedAsync(tables, partners, seeded, large - seeded);
        Console.WriteLine($"Seeded {seeded:N0} in {seedClock.Elapsed.TotalSeconds:0} s.");
        await settle(tables);
        var big = await MeasureAsync(partners, perClient, tables, settle);

        Console.WriteLine("Raw Azurite concurrent inserts again...");
        var rawAfter = await RawInsertsAsync(connectionString, quick ? 1_600 : 8_000);

        var md = new StringBuilder();
        md.AppendLine().AppendLine("## Deal registration under load").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- {Clients} concurrent clients (one partner admin each), {perClient} registrations each of unique customers per run; requests over loopback to the in-process local host; the outbox and workflows run meanwhile.");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Existing registrations seeded in batches (deal rows, conflict buckets, claim rows as the API writes them): {Fmt(1_000)} and {Fmt(large)}.");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Raw Azurite concurrent inserts ({Clients} clients, TableClient.AddEntityAsync, fresh table): {F(rawBefore, "0")}/s before, {F(rawAfter, "0")}/s after (with the seeded data in Azurite).");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Raw Azurite concurrent point reads ({Clients} clients, TableClient.GetEntityAsync of 256 rows): {F(rawReads, "0")}/s.").AppendLine();
        md.AppendLine("Background round trips are the work the outbox starts after the commit (events and email delivered, vendor list index, conflict buckets, counters, checklist); the Durable Task backend's own storage traffic (orchestration start, timers, history) is not counted because it does not go through the app's clients.").AppendLine();
        md.AppendLine("A run's throughput counts only when its background work drained within 2x the run's own duration (the drain is timed from the last response until the outbox is empty).").AppendLine();
        md.AppendLine("| existing registrations | registrations | run s | throughput /s | median ms | p99 ms | request round trips (median / max) | background round trips per registration | background drained in s (counted: within 2x the run) | throughput / raw inserts (before, after) |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (existing, r) in new[] { (1_000, small), (large, big) })
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {Fmt(existing)} | {r.Count} | {F(r.Seconds, "0.0")} | {F(r.Throughput, "0.0")} | {F(r.Median)} | {F(r.P99)} | {F(r.MedianCalls, "0.#")} / {r.MaxCalls} | {F(r.BackgroundPerRegistration, "0.0")} | {F(r.Drain, "0.0")} ({(r.Counted ? "yes" : "no")}) | {F(100 * r.Throughput / rawBefore, "0.0")}%, {F(100 * r.Throughput / rawAfter, "0.0")}% |");
        }
        md.AppendLine().AppendLine("Azurite's own ceiling for this mix of round trips (same run), an estimate: a registration's GETs (point reads and queries) priced at the raw point-read rate and its other round trips (writes, transactions, deletes) at the raw insert rate, whatever the code does between them; the sustained rate is at most the inverse of that cost, and a counted run (drained within 2x its duration, so done within 3x) at most three times it. Generous where a transaction costs more than one insert and the Durable backend's traffic is left out; not a proof where a delete or a merge costs less than a 1,500-byte insert, or where 16 raw clients do not saturate the emulator.").AppendLine();
        md.AppendLine("| existing registrations | round trips per registration (reads + others, request and background) | Azurite ceiling, sustained /s | counted throughput at most /s (% of raw inserts) | measured sustained /s (registrations / (run + drain)) | measured / ceiling |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|");
        foreach (var (existing, r, raw) in new[] { (1_000, small, rawBefore), (large, big, rawAfter) })
        {
            var ceiling = 1 / (r.ReadsPerRegistration / rawReads + r.OthersPerRegistration / raw);
            var sustained = r.Count / (r.Seconds + r.Drain);
            md.AppendLine(CultureInfo.InvariantCulture, $"| {Fmt(existing)} | {F(r.ReadsPerRegistration, "0.0")} + {F(r.OthersPerRegistration, "0.0")} | {F(ceiling, "0.0")} | {F(3 * ceiling, "0.0")} ({F(100 * 3 * ceiling / raw, "0.0")}%) | {F(sustained, "0.0")} | {F(100 * sustained / ceiling, "0")}% |");
        }
        md.AppendLine().AppendLine("### Targets").AppendLine();
        void Target(string text, bool pass) => md.AppendLine(CultureInfo.InvariantCulture, $"- {(pass ? "PASS" : "FAIL")}: {text}");
        Target($"median with {Fmt(large)} within 1.3x of the median with 1,000: {F(big.Median)} ms vs {F(small.Median)} ms = {F(big.Median / small.Median)}x", big.Median <= 1.3 * small.Median);
        Target($"at most 8 storage round trips per registration (request path): max {Math.Max(small.MaxCalls, big.MaxCalls)}", Math.Max(small.MaxCalls, big.MaxCalls) <= 8);
        Target($"throughput at least 25% of raw Azurite concurrent inserts, the background drained within 2x the run: {F(100 * small.Throughput / rawBefore, "0.0")}% (drained in {F(small.Drain, "0.0")} s of {F(small.Seconds, "0.0")} s) and {F(100 * big.Throughput / rawAfter, "0.0")}% (drained in {F(big.Drain, "0.0")} s of {F(big.Seconds, "0.0")} s)",
            small.Counted && big.Counted && small.Throughput >= 0.25 * rawBefore && big.Throughput >= 0.25 * rawAfter);
        Target($"at most 12 background round trips of our own per registration: {F(small.BackgroundPerRegistration, "0.0")} and {F(big.BackgroundPerRegistration, "0.0")}", Math.Max(small.BackgroundPerRegistration, big.BackgroundPerRegistration) <= 12);
        return md.ToString();
    }

    private static string Fmt(int n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private sealed record Run(int Count, double Throughput, double Median, double P99, double MedianCalls, int MaxCalls, double BackgroundPerRegistration, double Seconds, double Drain,
        double ReadsPerRegistration, double OthersPerRegistration)
    {
        /// <summary>The run counts when its background work drained within twice its own duration.</summary>
        public bool Counted => Drain <= 2 * Seconds;
    }

    private static async Task<Run> MeasureAsync(List<(string Id, string Name, HttpClient Client)> partners, int perClient, PrmTables tables, Func<PrmTables, Task> settle)
    {
        Console.WriteLine($"Measuring {partners.Count} x {perClient} concurrent registrations (after one unrecorded registration per client)...");
        await Task.WhenAll(partners.Select(p => p.Client.PostAsync("deals", Responses.Json(new
        {
            customer = new { companyName = "Warm Up " + Guid.NewGuid().ToString("N")[..8], domain = $"{Guid.NewGuid():N}"[..16] + ".example", country = "DE" },
            products = new[] { "cloud-backup" }, estimatedValue = new { amount = 10_000m, currency = "EUR" },
            expectedCloseDate = DateTime.UtcNow.AddDays(60).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        }))));
        await settle(tables);
        var samples = new ConcurrentBag<Sample>();
        StorageCalls.StartTally();
        var before = StorageCalls.Total;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(partners.Select(async p =>
        {
            for (var i = 0; i < perClient; i++)
            {
                var name = Word(Random.Shared) + " " + Word(Random.Shared) + " Systems";
                var body = Responses.Json(new
                {
                    customer = new { companyName = name, domain = $"{Guid.NewGuid():N}"[..16] + ".example", country = "DE" },
                    products = new[] { "cloud-backup" },
                    estimatedValue = new { amount = 10_000m, currency = "EUR" },
                    expectedCloseDate = DateTime.UtcNow.AddDays(60).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                });
                var start = Stopwatch.GetTimestamp();
                using var response = await p.Client.PostAsync("deals", body);
                var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"Registration answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                samples.Add(new Sample(ms, int.Parse(response.StorageCalls()!, CultureInfo.InvariantCulture)));
            }
        }));
        var elapsed = clock.Elapsed;
        var drain = Stopwatch.StartNew();
        var ownPolls = StorageCalls.BeginScope(); // the drain wait's own polls of the pending pointers: not the app's work, left out below
        await settle(tables);
        var polls = ownPolls.Value;
        var drained = Math.Max(0, drain.Elapsed.TotalSeconds - 2); // settle pauses 2 s after the outbox is empty
        Console.WriteLine($"The background work of the run finished {drained:0.0} s after its last response.");
        var all = samples.ToList();
        var tally = new Dictionary<string, int>(StorageCalls.StopTally(), StringComparer.Ordinal);
        if (tally.Keys.FirstOrDefault(k => k.StartsWith("GET ", StringComparison.Ordinal) && k.EndsWith("outboxpending", StringComparison.Ordinal)) is { } pollKey)
        {
            tally[pollKey] -= Math.Min(polls, tally[pollKey]);
        }
        // Where the round trips went (requests and background together; the drain wait's own polls left out).
        Console.WriteLine("Round trips per registration by method and table:");
        foreach (var (key, calls) in tally.OrderByDescending(t => t.Value)) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {calls / (double)all.Count,6:0.00}  {key}"));
        var requestCalls = all.Sum(s => s.StorageCalls);
        var background = (StorageCalls.Total - before - requestCalls - polls) / (double)all.Count;
        return new Run(all.Count, all.Count / elapsed.TotalSeconds, Percentile(all.Select(s => s.Ms), 50), Percentile(all.Select(s => s.Ms), 99),
            Percentile(all.Select(s => (double)s.StorageCalls), 50), all.Max(s => s.StorageCalls), background, elapsed.TotalSeconds, drained,
            tally.Where(t => t.Key.StartsWith("GET ", StringComparison.Ordinal)).Sum(t => t.Value) / (double)all.Count,
            tally.Where(t => !t.Key.StartsWith("GET ", StringComparison.Ordinal)).Sum(t => t.Value) / (double)all.Count);
    }

    /// <summary>Concurrent point reads of 256 existing rows by <see cref="Clients"/> clients: Azurite's read rate on this machine, now.</summary>
    private static async Task<double> RawReadsAsync(string connectionString, int count)
    {
        var table = new TableClient(connectionString, "rawreads" + Guid.NewGuid().ToString("N")[..8]);
        await table.CreateIfNotExistsAsync();
        var keys = Enumerable.Range(0, 256).Select(i => i.ToString("D4", CultureInfo.InvariantCulture)).ToArray();
        foreach (var chunk in keys.Chunk(100))
        {
            await table.SubmitTransactionAsync(chunk.Select(k => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", k) { ["Body"] = new string('x', 1500) })));
        }
        var next = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= count) await table.GetEntityAsync<TableEntity>("p", keys[i % keys.Length]);
        }));
        var rate = count / clock.Elapsed.TotalSeconds;
        await table.DeleteAsync();
        return rate;
    }

    private static async Task<double> RawInsertsAsync(string connectionString, int count)
    {
        var table = new TableClient(connectionString, "rawinserts" + Guid.NewGuid().ToString("N")[..8]);
        await table.CreateIfNotExistsAsync();
        var next = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                var key = Guid.NewGuid().ToString("N");
                await table.AddEntityAsync(new TableEntity(key, key) { ["Body"] = new string('x', 1500) });
            }
        }));
        var rate = count / clock.Elapsed.TotalSeconds;
        await table.DeleteAsync();
        return rate;
    }

    /// <summary>
    /// Writes <paramref name="count"/> approved registrations of unique customers: deal rows in batches of 100 per partner partition,
    /// conflict index rows (name partitions shared by groups of 100, in batches), a domain row and a claim row per customer.
    /// </summary>
    private static async Task<int> SeedAsync(PrmTables tables, List<(string Id, string Name, HttpClient Client)> partners, int offset, int count)
    {
        var random = new Random(offset + 7);
        var now = DateTimeOffset.UtcNow;
        var groups = (count + 99) / 100;
        var done = 0;
        var work = new ConcurrentQueue<int>(Enumerable.Range(0, groups));
        await Task.WhenAll(Enumerable.Range(0, 24).Select(async worker =>
        {
            var rng = new Random(offset * 31 + worker);
            while (work.TryDequeue(out var g))
            {
                var partner = partners[(offset / 100 + g) % partners.Count];
                var word = Word(rng) + Word(rng)[..3];
                var deals = new List<(Deal Deal, DealDto Dto)>();
                for (var i = 0; i < Math.Min(100, count - g * 100); i++)
                {
                    var at = now.AddSeconds(-(offset + g * 100 + i));
                    var name = $"{word} {Word(rng)} {i}";
                    var key = CustomerNormalizer.CompanyNameKey(name);
                    var domain = $"seed{offset + g * 100 + i}-{Guid.NewGuid():N}"[..20] + ".example";
                    var deal = new Deal
                    {
                        Id = DealIds.New(partner.Id, at), RegistrationNumber = DealIds.RegistrationNumber(at), PartnerId = partner.Id, PartnerName = partner.Name,
                        SubmittedBy = "usr_seed", SubmittedByName = "Seed", SubmittedByEmail = "seed@example.com", Status = DealStatus.Approved,
                        Customer = new DealCustomer(name, domain, "DE", null, null, key, CustomerNormalizer.BlockingKeys(key)),
                        Products = ["cloud-backup"], EstimatedValue = new Money(10_000m, "EUR"), ExpectedCloseDate = DateOnly.FromDateTime(now.UtcDateTime.AddDays(60)),
                        CreatedAt = at, SubmittedAt = at, ApprovedAt = at, ProtectedUntil = at.AddDays(90), UpdatedAt = at,
                        Conflict = new DealConflict("none", 0, [], [], false, true), ClaimKey = "d:" + domain,
                    };
                    deals.Add((deal, DealDto.From(deal, vendorView: true)));
                }
                await tables.Deals.SubmitTransactionAsync(deals.Select(d => new TableTransactionAction(TableTransactionActionType.UpsertReplace, TableDealStore.Entity(d.Deal))));
                // Domain buckets are one customer each (a plain write); name buckets may be shared, so they are read, changed and written.
                foreach (var (deal, dto) in deals)
                {
                    var entry = ConflictBuckets.Entry(dto) with { N = deal.Customer.NameKey };
                    await tables.ConflictIndex.UpsertEntityAsync(ConflictBuckets.Row(ConflictBuckets.DomainPartition(deal.Customer.Domain!), [entry]), TableUpdateMode.Replace);
                }
                foreach (var bucket in deals.SelectMany(d => d.Deal.Customer.BlockingKeys.Select(k => (Partition: ConflictBuckets.NamePartition(k), Entry: ConflictBuckets.Entry(d.Dto) with { N = d.Deal.Customer.NameKey })))
                    .GroupBy(x => x.Partition))
                {
                    for (var attempt = 0; ; attempt++)
                    {
                        var found = await tables.ConflictIndex.GetEntityIfExistsAsync<TableEntity>(bucket.Key, bucket.Key);
                        var entries = ConflictBuckets.Read(found.HasValue ? found.Value : null);
                        foreach (var (_, entry) in bucket) entries = ConflictBuckets.With(entries, entry);
                        try
                        {
                            if (found.HasValue) await tables.ConflictIndex.UpdateEntityAsync(ConflictBuckets.Row(bucket.Key, entries), found.Value!.ETag, TableUpdateMode.Replace);
                            else await tables.ConflictIndex.AddEntityAsync(ConflictBuckets.Row(bucket.Key, entries));
                            break;
                        }
                        catch (Azure.RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < 20)
                        {
                        }
                    }
                }
                foreach (var (deal, _) in deals)
                {
                    await tables.Keys.UpsertEntityAsync(new TableEntity(TableDealStore.ClaimPartition(deal.ClaimKey!), TableDealStore.ClaimPartition(deal.ClaimKey!)) { ["DealId"] = deal.Id, ["PartnerId"] = deal.PartnerId }, TableUpdateMode.Replace);
                }
                var total = Interlocked.Add(ref done, deals.Count);
                if (total % 10_000 < deals.Count) Console.WriteLine($"  {total:N0} / {count:N0}");
            }
        }));
        return done;
    }

    private static string Word(Random random)
    {
        const string consonants = "bcdfghklmnprstvz";
        const string vowels = "aeiou";
        var chars = new char[7];
        for (var i = 0; i < chars.Length; i++) chars[i] = i % 2 == 0 ? consonants[random.Next(consonants.Length)] : vowels[random.Next(vowels.Length)];
        chars[0] = char.ToUpperInvariant(chars[0]);
        return new string(chars);
    }
}
