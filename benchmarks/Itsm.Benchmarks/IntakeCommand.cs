using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Hosting.Standalone;
using Itsm.Functions.Intake;
using Itsm.Functions.Notifications;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Itsm.Benchmarks;

/// <summary>
/// Intake through the real standalone app (Kestrel on loopback, the embedded store and queue, the real clock):
/// <code>
/// intake [--messages 2000] [--workers 16]
/// </code>
/// posts --messages HMAC-signed Teams messages to <c>/api/intake/teams/{source}</c> with --workers closed-loop workers
/// (webhook answer latency and rate: what Teams waits for), then times until the queue is empty and every message
/// is a ticket with its acknowledgement in the outbox (intake rate), then posts every message again (duplicates:
/// must add nothing).
/// </summary>
internal static class IntakeCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        Console.WriteLine(Measure.Machine());
        var messages = Measure.IntOption(args, "--messages", 2000);
        var workers = Measure.IntOption(args, "--workers", 16);
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        await using var bench = await BenchApp.StartAsync("intake", workers * 2, new Dictionary<string, string?>
        {
            ["Itsm:Intake:Sources:0:Name"] = "teams-bench",
            ["Itsm:Intake:Sources:0:TenantId"] = "bench",
            ["Itsm:Intake:Sources:0:Secret"] = secret,
        });
        var (app, http, database) = (bench.App, bench.Http, bench.DatabasePath);
        var queue = app.Services.GetRequiredService<EmbeddedQueue>();
        var key = Convert.FromBase64String(secret);

        async Task<List<double>> PostAllAsync()
        {
            var latencies = new List<double>();
            var next = 0;
            await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) is var i && i <= messages)
                {
                    var body = JsonSerializer.Serialize(new { type = "message", id = $"act-{i}", text = $"<at>Desk</at> Laptop {i} does not boot", from = new { id = $"29:u{i % 50}", name = $"User {i % 50}", aadObjectId = $"aad-{i % 50}" } });
                    using var request = new HttpRequestMessage(HttpMethod.Post, "/api/intake/teams/teams-bench") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                    request.Headers.TryAddWithoutValidation("Authorization", "HMAC " + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(body))));
                    var watch = Stopwatch.StartNew();
                    using var response = await http.SendAsync(request);
                    var elapsed = watch.Elapsed.TotalMilliseconds;
                    if (!response.IsSuccessStatusCode)
                    {
                        throw new InvalidOperationException($"webhook answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                    }

                    lock (latencies)
                    {
                        latencies.Add(elapsed);
                    }
                }
            }));
            latencies.Sort();
            return latencies;
        }

        async Task<TimeSpan> DrainAsync(Stopwatch since)
        {
            while (await queue.CountActiveAsync(IntakeFunctions.QueueName) > 0)
            {
                await Task.Delay(20);
            }

            return since.Elapsed;
        }

        var total = Stopwatch.StartNew();
        var answers = await PostAllAsync();
        var posted = total.Elapsed;
        var drained = await DrainAsync(total);
        var tickets = await CountAsync(app, TicketStore.Tickets, "bench", Ticket.DocumentType);
        var outbox = await CountOutboxAsync(app);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"webhook: {messages} posted in {posted.TotalSeconds:F2} s = {messages / posted.TotalSeconds:F0} req/s; answer {Measure.Summary(answers, "ms")}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"intake: queue empty {drained.TotalSeconds:F2} s after the first post = {messages / drained.TotalSeconds:F0} messages/s end to end; tickets {tickets}, outbox {outbox}"));

        var again = Stopwatch.StartNew();
        var duplicateAnswers = await PostAllAsync();
        var duplicatesDrained = await DrainAsync(again);
        var ticketsAfter = await CountAsync(app, TicketStore.Tickets, "bench", Ticket.DocumentType);
        var outboxAfter = await CountOutboxAsync(app);
        var deadLetters = (await app.Services.GetRequiredService<Itsm.Functions.Hosting.Standalone.EmbeddedQueue>().GetDeadLettersAsync(IntakeFunctions.QueueName, CancellationToken.None)).Count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"duplicates: {messages} re-posted, queue empty after {duplicatesDrained.TotalSeconds:F2} s ({messages / duplicatesDrained.TotalSeconds:F0}/s); answer {Measure.Summary(duplicateAnswers, "ms")}; tickets now {ticketsAfter}, outbox {outboxAfter}"));
        Console.WriteLine($"poison messages: {deadLetters}; {Measure.Memory()}; {Measure.FileSizes(database)}");
        return 0;
    }

    private static async Task<int> CountAsync(WebApplication app, ContainerDefinition container, string tenant, string docType)
    {
        var store = app.Services.GetRequiredService<IDocumentStore>();
        var count = 0;
        string? continuation = null;
        do
        {
            var page = await store.QueryAsync<JsonElement>(container, new DocumentQuery(tenant, [new QueryFilter("docType", FilterOperator.Equals, docType)], null, 1000, continuation));
            count += page.Items.Count;
            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        return count;
    }

    private static async Task<int> CountOutboxAsync(WebApplication app)
    {
        var outbox = app.Services.GetRequiredService<NotificationOutbox>();
        var count = 0;
        string? continuation = null;
        do
        {
            var page = await outbox.ListAsync("bench", null, 200, continuation, CancellationToken.None);
            count += page.Items.Count;
            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        return count;
    }
}
