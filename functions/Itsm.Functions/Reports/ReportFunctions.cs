using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Tickets;
using Microsoft.Azure.Functions.Worker;

namespace Itsm.Functions.Reports;

/// <summary>The reports API under <c>/api/reports</c>, the rebuild under <c>/api/manage/reports</c>, and the dashboard page.</summary>
public sealed class ReportFunctions(HttpEndpoint http)
{
    [Function("Reports_List")]
    [ApiDoc("The reports there are, with their units and what they cover (agents, change managers, admins).")]
    public Task<IResult> ReportsList([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "reports")] HttpRequest req) =>
        http.ApiAsync(req, api => Task.FromResult(ReportEndpoints.List(api)));

    [Function("Reports_Get")]
    [ApiDoc("A report for a range of UTC days: a trend per day, week or month, or one row per group with ?by=; CSV with Accept: text/csv or ?format=csv.", QueryParameters = ["from", "to", "by", "interval", "format"])]
    public Task<IResult> ReportsGet([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "reports/{name}")] HttpRequest req) =>
        http.ApiAsync(req, api => ReportEndpoints.GetAsync(api, chart: false));

    [Function("Reports_Chart")]
    [ApiDoc("The report as an SVG chart (lines over time, bars per group) with title, axes, units and legend.", QueryParameters = ["from", "to", "by", "interval"])]
    public Task<IResult> ReportsChart([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "reports/{name}/chart")] HttpRequest req) =>
        http.ApiAsync(req, api => ReportEndpoints.GetAsync(api, chart: true));

    [Function("Admin_RebuildReports")]
    [ApiDoc("Rebuild the tenant's report counters from its tickets (admins; body {\"confirm\":true}).")]
    public Task<IResult> AdminRebuildReports([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "manage/reports/rebuild")] HttpRequest req) =>
        http.ApiAsync(req, ReportEndpoints.RebuildAsync);

    [Function("Reports_Dashboard")]
    [ApiDoc("The dashboard page (agents and managers): signed in through App Service Authentication, a bearer token, or standalone a dev token in the form.", RequiresToken = false, QueryParameters = ["from", "to"])]
    public Task<IResult> ReportsDashboard([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "reports-dashboard")] HttpRequest req) =>
        http.PublicAsync(req, ReportDashboard.ShowAsync);

    [Function("Reports_DashboardSignIn")]
    [ApiDoc("The dashboard page, signed in with a dev token posted from its form (standalone).", RequiresToken = false)]
    public Task<IResult> ReportsDashboardSignIn([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "reports-dashboard")] HttpRequest req) =>
        http.PublicAsync(req, ReportDashboard.ShowAsync);
}

/// <summary>The handlers behind <see cref="ReportFunctions"/>.</summary>
public static class ReportEndpoints
{
    public static HttpResponseOutput List(ApiContext api) =>
        !api.Caller.IsAgent
            ? Refuse()
            : HttpResults.Ok(new { items = ReportCatalog.All.Select(r => new { name = r.Name, title = r.Title, unit = r.Unit, covers = r.Covers, link = $"/api/reports/{r.Name}", chart = $"/api/reports/{r.Name}/chart" }) });

    public static async Task<HttpResponseOutput> GetAsync(ApiContext api, bool chart)
    {
        if (!api.Caller.IsAgent)
        {
            return Refuse();
        }

        var name = api.Request.RouteValue("name") ?? "";
        if (ReportCatalog.Find(name) is not { } report)
        {
            return HttpResults.Problem(404, "Not found.", $"There is no report '{name}'. Reports: {string.Join(", ", ReportCatalog.All.Select(r => r.Name))}.");
        }

        var service = api.Services.GetRequiredService<ReportService>();
        var (query, errors) = ReportQuery.Parse(api.Request, service.Today);
        var format = api.Request.QueryValue("format");
        if (!chart && format is not null && format is not ("json" or "csv"))
        {
            errors["format"] = ["must be json or csv."];
        }

        if (errors.Count > 0)
        {
            return HttpResults.ValidationProblem(errors, "Nothing was computed.");
        }

        var result = await service.RunAsync(api.Caller.TenantId, report, query!, api.CancellationToken);
        if (chart)
        {
            return new HttpResponseOutput(200, new Dictionary<string, string>
            {
                ["Content-Type"] = "image/svg+xml; charset=utf-8",
                ["Cache-Control"] = "no-store",
                ["X-Content-Type-Options"] = "nosniff",
                ["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'",
            }, ReportChart.Render(result));
        }

        var csv = format == "csv" || (format is null && (api.Request.Header("Accept") ?? "").Contains("text/csv", StringComparison.OrdinalIgnoreCase));
        return csv
            ? new HttpResponseOutput(200, new Dictionary<string, string>
            {
                ["Content-Type"] = "text/csv; charset=utf-8",
                ["Content-Disposition"] = $"attachment; filename=\"{report.Name}-{result.From}-{result.To}.csv\"",
                ["Cache-Control"] = "no-store",
            }, ReportService.Csv(result))
            : HttpResults.Ok(result);
    }

    public static async Task<HttpResponseOutput> RebuildAsync(ApiContext api)
    {
        if (!api.Caller.IsAdmin)
        {
            return ApiFunctions.Forbidden("Only admins (Itsm.Admin) rebuild the report counters.");
        }

        var confirmed = false;
        try
        {
            using var body = System.Text.Json.JsonDocument.Parse(api.Request.Body ?? "");
            confirmed = body.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && body.RootElement.TryGetProperty("confirm", out var confirm) && confirm.ValueKind == System.Text.Json.JsonValueKind.True;
        }
        catch (System.Text.Json.JsonException)
        {
            // Not JSON: not confirmed.
        }

        if (!confirmed)
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["confirm"] = ["must be true: a rebuild recounts every ticket of the tenant (send {\"confirm\":true})."] }, "Nothing was rebuilt.");
        }

        var result = await api.Services.GetRequiredService<ReportStore>().RebuildAsync(api.Caller.TenantId, api.Caller.UserId, api.CancellationToken);
        return HttpResults.Ok(result);
    }

    private static HttpResponseOutput Refuse() =>
        ApiFunctions.Forbidden("Reports are for agents, change managers and admins (Itsm.Agent, Itsm.ChangeManager, Itsm.Admin).");
}

/// <summary>The feature's services.</summary>
public static class ReportFeature
{
    public static IServiceCollection AddReports(this IServiceCollection services) =>
        services.AddSingleton<ReportStore>().AddSingleton<ReportService>().AddSingleton<ReportCounting>()
            .AddSingleton<ITicketWriteRule, ReportMarksRule>()
            .AddSingleton<ITicketFollowUpSource>(sp => sp.GetRequiredService<ReportCounting>())
            .AddSingleton<ITicketFollowUpHandler>(sp => sp.GetRequiredService<ReportCounting>());
}
