using System.Net;
using System.Text;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Microsoft.AspNetCore.WebUtilities;

namespace Itsm.Functions.Reports;

/// <summary>
/// The dashboard page for agents and managers: the main charts, server-rendered as inline SVG (no script). Who is
/// signed in is decided as on the approval page: in Azure through App Service Authentication (the platform's
/// principal header, only when the platform's sign-in is on), else a bearer token in the Authorization header, else
/// (standalone, where no sign-in page exists) a dev token posted from the page's form.
/// </summary>
public static class ReportDashboard
{
    public const string PagePath = "/api/reports-dashboard";

    /// <summary>The charts shown: report, breakdown (null for a trend), interval.</summary>
    public static readonly IReadOnlyList<(string Report, string? By, string Id)> Charts =
    [
        ("volume", null, "chart-volume"),
        ("backlog", null, "chart-backlog"),
        ("backlog", "priority", "chart-backlog-age"),
        ("mtta", null, "chart-mtta"),
        ("mttr", null, "chart-mttr"),
        ("sla", null, "chart-sla"),
        ("mttr", "group", "chart-mttr-group"),
        ("changes", null, "chart-changes"),
    ];

    public static async Task<HttpResponseOutput> ShowAsync(HttpFunctionContext http)
    {
        var auth = http.Services.GetRequiredService<AuthOptions>();
        var form = http.Request.Method.Equals("POST", StringComparison.OrdinalIgnoreCase) ? QueryHelpers.ParseQuery(http.Request.Body ?? "") : [];
        AuthenticationResult signedIn;
        if (auth.PlatformAuthenticationEnabled)
        {
            signedIn = PlatformPrincipal.Read(http.Request.Header(PlatformPrincipal.Header), auth);
            if (!signedIn.Succeeded)
            {
                return Page(200, "Sign in", $"<p id=\"status\">Sign in with your work account to see the dashboard.</p><p><a id=\"sign-in\" href=\"{E(PlatformPrincipal.LoginPath(PagePath))}\">Sign in</a></p>");
            }
        }
        else
        {
            var header = http.Request.Header("Authorization")
                ?? (form.TryGetValue("access_token", out var token) && token.Count == 1 && !string.IsNullOrWhiteSpace(token[0]) ? "Bearer " + token[0] : null);
            if (header is null)
            {
                return Page(200, "Sign in", "<form method=\"post\" action=\"" + PagePath + "\"><p id=\"status\">Sign in to see the dashboard.</p>"
                    + "<label for=\"access_token\">Sign-in token</label><input id=\"access_token\" name=\"access_token\" type=\"password\" autocomplete=\"off\" placeholder=\"Standalone: paste your dev token\">"
                    + "<p><button id=\"show\">Show the dashboard</button></p></form>");
            }

            signedIn = await http.Services.GetRequiredService<ICallerAuthenticator>().AuthenticateAsync(header, http.CancellationToken);
            if (!signedIn.Succeeded)
            {
                return Page(401, "Not signed in", $"<p id=\"status\" class=\"notice\">The sign-in token was not accepted: {E(signedIn.Failure ?? "")}</p>");
            }
        }

        var caller = signedIn.Caller!;
        if (!caller.IsAgent)
        {
            return Page(403, "Not allowed", "<p id=\"status\" class=\"notice\">The dashboard is for agents, change managers and admins.</p>");
        }

        var service = http.Services.GetRequiredService<ReportService>();
        var (query, errors) = ReportQuery.Parse(http.Request, service.Today);
        if (query is null)
        {
            return Page(400, "Dashboard", $"<p id=\"status\" class=\"notice\">{E(string.Join(" ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")))}</p>");
        }

        var body = new StringBuilder();
        body.Append("<header><h1>Service dashboard</h1><p id=\"range\">")
            .Append(E($"{ReportQuery.Text(query.From)} to {ReportQuery.Text(query.To)} (UTC) · tenant {caller.TenantId} · signed in as {caller.Name ?? caller.UserId}"))
            .Append("</p></header><main class=\"grid\">");
        foreach (var (name, by, id) in Charts)
        {
            var report = ReportCatalog.Find(name)!;
            var result = await service.RunAsync(caller.TenantId, report, query with { By = by, Interval = query.To.DayNumber - query.From.DayNumber > 92 ? "week" : query.Interval }, http.CancellationToken);
            body.Append("<figure id=\"").Append(id).Append("\">").Append(ReportChart.Render(result)).Append("</figure>");
        }

        body.Append("</main><p class=\"links\">Each chart is also at <code>/api/reports/{name}/chart</code>, its figures at <code>/api/reports/{name}</code> (JSON or CSV).</p>");
        return Page(200, "Service dashboard", body.ToString());
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private const string DashboardStyle = """
        body{font-family:system-ui,sans-serif;margin:0 auto;padding:1rem;max-width:1600px;background:#f6f7f9}
        h1{margin:.2rem 0}.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(780px,1fr));gap:1rem}
        figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:.4rem;padding:.5rem;overflow-x:auto}
        .notice{background:#fff4e5;padding:.75rem}input{width:100%;max-width:30rem;font-size:1rem;padding:.5rem}
        """;

    private static HttpResponseOutput Page(int status, string title, string body) => HtmlPage.Render(status, title, body, DashboardStyle);
}
