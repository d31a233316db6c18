using Itsm.Functions.Hosting;
using Itsm.Functions.Storage;
using Itsm.Functions.Storage.Sqlite;
using Microsoft.Azure.Functions.Worker;

namespace Itsm.Functions.Health;

public sealed class HealthFunctions(HttpEndpoint http)
{
    [Function("Health"), ApiDoc("Version, mode and whether the store answers.", ResponseSchema = "HealthReport", RequiresToken = false)]
    public Task<IResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest req) =>
        http.PublicAsync(req, GetHealthAsync);

    private static async Task<HttpResponseOutput> GetHealthAsync(HttpFunctionContext context)
    {
        var host = context.Services.GetRequiredService<HostInfo>();
        var store = context.Services.GetRequiredService<StoreInfo>();
        var reachable = store.Provider == StoreProvider.Sqlite
            ? await context.Services.GetRequiredService<SqliteDatabase>().IsReachableAsync(context.CancellationToken)
            : await IsReachableAsync(context.Services.GetRequiredService<IDocumentStore>(), context.CancellationToken);
        var report = new HealthReport(
            reachable ? "Healthy" : "Unhealthy",
            host.Version,
            host.Mode == HostMode.Standalone ? "standalone" : "functions",
            new DatabaseHealth(store.Provider.ToString().ToLowerInvariant(), reachable));
        return HttpResults.JsonBody(reachable ? 200 : 503, report, new Dictionary<string, string> { ["Cache-Control"] = "no-store" });
    }

    /// <summary>A point read of a document that never exists: 404 from the store means it answers.</summary>
    private static async Task<bool> IsReachableAsync(IDocumentStore store, CancellationToken cancellationToken)
    {
        try
        {
            await store.ReadAsync<object>(Tickets.TicketStore.Counters, new DocumentKey("health-probe", "health-probe"), cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return false;
        }
    }
}

public sealed record HealthReport(string Status, string Version, string Mode, DatabaseHealth Database);

public sealed record DatabaseHealth(string Provider, bool Reachable);
