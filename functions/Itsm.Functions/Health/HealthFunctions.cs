using Itsm.Functions.Hosting;
using Itsm.Functions.Storage.Sqlite;

namespace Itsm.Functions.Health;

public static class HealthFunctions
{
    public static FunctionCatalogBuilder MapHealth(this FunctionCatalogBuilder functions) =>
        functions.MapHttp("Health", "GET", "health", GetHealthAsync);

    private static async Task<HttpResponseOutput> GetHealthAsync(HttpFunctionContext context)
    {
        var host = context.Services.GetRequiredService<HostInfo>();
        var database = context.Services.GetRequiredService<SqliteDatabase>();
        var reachable = await database.IsReachableAsync(context.CancellationToken);
        var report = new HealthReport(
            reachable ? "Healthy" : "Unhealthy",
            host.Version,
            host.Mode == HostMode.Standalone ? "standalone" : "functions",
            new DatabaseHealth("sqlite", reachable));
        return HttpResults.JsonBody(reachable ? 200 : 503, report, new Dictionary<string, string> { ["Cache-Control"] = "no-store" });
    }
}

public sealed record HealthReport(string Status, string Version, string Mode, DatabaseHealth Database);

public sealed record DatabaseHealth(string Provider, bool Reachable);
