using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Itsm.Functions.Demo;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;

namespace Itsm.Functions.Tests.Hosting;

/// <summary>
/// Thousands of malformed requests (bodies, headers, paths, query strings, unicode) spread over every route of the app
/// (from <see cref="FunctionIndex.ForApp"/>), sent through Kestrel to a tenant full of demo data: no answer is a 5xx,
/// every 4xx is problem details (the browser pages answer in HTML), and the databases are the same row for row
/// afterwards.
/// </summary>
public partial class RouteFuzzTests
{
    private const int RequestCount = 2600;

    private static readonly FunctionDescriptor[] Routes = [.. FunctionIndex.ForApp().OfKind(TriggerKind.Http)];

    private static readonly string[] HtmlRoutes = ["approval-page", "ticket-page", "survey-page", "reports-dashboard"];

    private static readonly string[] JunkSegments =
    [
        "%00", "a%00b", "..", "..%2F..%2Fmanage", "%2e%2e", "%ED%A0%80", "%FF%FE", "%C3%28", "caf%C3%A9", "%E4%B8%AD%F0%9F%98%80", "a|b", "%7C", "%20", "%09",
        "%0A", "-1", "0", "99999999999999999999", "null", "%22%3Cscript%3E", "%25", "A", new string('x', 300),
    ];

    private static readonly string[] Actions = ["start", "hold", "resume", "resolve", "close", "reopen", "cancel", "comment", "work-note", "link", "time-entry", "merge", "submit", "authorize", "assess", "revert", "frobnicate"];

    [Fact]
    public async Task Malformed_requests_on_every_route_get_no_5xx_only_problem_details_and_change_nothing()
    {
        var directory = TempDirectory.Create();
        using (var output = new StringWriter())
        {
            var seeded = DemoDataCommand.TryRun(["demo-data"], new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Itsm:Sqlite:Path"] = Path.Combine(directory, "itsm.db") }).Build(), output, output, out var exitCode);
            Assert.True(seeded && exitCode == 0, output.ToString());
        }

        await using var app = await StandaloneApp.StartAsync(directory: directory, clock: new FakeTimeProvider(DateTimeOffset.UtcNow), kestrel: true);
        var clients = new[]
        {
            app.As("ana", "local"), app.As("sam", "local", AppRoles.Agent), app.As("carol", "local", AppRoles.ChangeManager, AppRoles.Approver),
            app.As("alex", "local", AppRoles.Admin), app.As("alex", "fabrikam", AppRoles.Admin), new HttpClient { BaseAddress = app.BaseAddress },
        };
        var ids = await KnownIdsAsync(clients[3]);
        await app.WaitForDurableIdleAsync();
        var before = Snapshot(directory);

        var random = new Random(20261203);
        var failures = new List<string>();
        var perRoute = Routes.ToDictionary(r => r.Name, _ => 0);
        for (var i = 0; i < RequestCount; i++)
        {
            var route = Routes[i % Routes.Length];
            perRoute[route.Name]++;
            using var request = NextRequest(random, route, ids);
            var description = $"{request.Method} {request.RequestUri}";
            HttpResponseMessage response;
            try
            {
                response = await clients[random.Next(clients.Length)].SendAsync(request);
            }
            catch (HttpRequestException ex)
            {
                failures.Add($"{description}: no answer ({ex.Message})");
                continue;
            }

            using (response)
            {
                var status = (int)response.StatusCode;
                var mediaType = response.Content.Headers.ContentType?.MediaType;
                if (status >= 500)
                {
                    failures.Add($"{status} for {description}: {await response.Content.ReadAsStringAsync()}");
                }
                else if (status >= 400 && mediaType != "application/problem+json" && !(HtmlRoutes.Contains(route.Route) && mediaType == "text/html"))
                {
                    failures.Add($"{status} without problem details ({mediaType ?? "no body"}) for {description}");
                }
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} failures:\n{string.Join("\n", failures.Take(25))}");
        Assert.All(perRoute, r => Assert.True(r.Value >= RequestCount / Routes.Length, $"{r.Key} got {r.Value} requests"));
        await app.WaitForDurableIdleAsync();
        var after = Snapshot(directory);

        // The SQLite store creates a container's table on its first use, reads included: a new table must be empty.
        Assert.All(before.Keys.Union(after.Keys), table => Assert.True(
            before.GetValueOrDefault(table, []).SequenceEqual(after.GetValueOrDefault(table, [])),
            $"table {table}: {before.GetValueOrDefault(table, []).Length} rows before, {after.GetValueOrDefault(table, []).Length} after"));
    }

    private static HttpRequestMessage NextRequest(Random random, FunctionDescriptor route, IReadOnlyDictionary<string, string[]> ids)
    {
        var methods = route.HttpMethods;
        var method = random.Next(12) == 0 ? new[] { "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" }[random.Next(6)] : methods[random.Next(methods.Count)];
        var path = RouteParameter().Replace(route.Route, m => Segment(random, m.Groups[1].Value, route.Route, method, ids));
        var request = new HttpRequestMessage(new HttpMethod(method), "/api/" + path + Query(random, route));
        if (method is "POST" or "PUT" or "PATCH")
        {
            request.Content = Body(random, route);
        }

        if (random.Next(3) == 0)
        {
            request.Headers.TryAddWithoutValidation("If-Match", random.Next(2) == 0 ? "\"stale\"" : Ascii(random, 0, 60));
        }

        if (random.Next(4) == 0)
        {
            request.Headers.TryAddWithoutValidation(Idempotency.Header, random.Next(3) == 0 ? new string('k', 201) : Ascii(random, 0, 40));
        }

        if (random.Next(8) == 0)
        {
            request.Headers.TryAddWithoutValidation("Authorization", new[] { "Bearer", "Bearer " + Ascii(random, 1, 200), "Basic YTpi", "HMAC " + Ascii(random, 1, 50), "bearer x.y.z" }[random.Next(5)]);
        }

        if (random.Next(10) == 0)
        {
            request.Headers.TryAddWithoutValidation("X-MS-CLIENT-PRINCIPAL", Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"claims":[{"typ":"oid","val":"alex"}]}""")));
        }

        return request;
    }

    /// <summary>
    /// A route value: an existing id now and then (so handlers run past their lookups), otherwise junk. Writes that
    /// could succeed with a real id get a body that never parses; a DELETE never gets a real relationship id.
    /// </summary>
    private static string Segment(Random random, string name, string route, string method, IReadOnlyDictionary<string, string[]> ids)
    {
        var known = name switch
        {
            "action" => Actions,
            "kind" => ["cis", "relationships"],
            "name" => ["server", "printer"],
            "source" => ["teams-desk", "azure-monitor"],
            "relationshipId" => [],
            _ when route.StartsWith("tickets", StringComparison.Ordinal) => ids["tickets"],
            _ when route.StartsWith("changes/templates", StringComparison.Ordinal) => ["tls-renewal"],
            _ when route.StartsWith("changes", StringComparison.Ordinal) => ids["changes"],
            _ when route.StartsWith("cis", StringComparison.Ordinal) => ids["cis"],
            _ when route.StartsWith("approvals", StringComparison.Ordinal) => ids["approvals"],
            _ when route.StartsWith("manage/sla/calendars", StringComparison.Ordinal) => ["business-hours", "around-the-clock"],
            _ when route.StartsWith("manage/sla/policies", StringComparison.Ordinal) => ["business-hours-service", "critical-incidents"],
            _ => [],
        };
        return known.Length > 0 && random.Next(3) > 0 ? Uri.EscapeDataString(known[random.Next(known.Length)]) : Junk(random);
    }

    private static string Junk(Random random) => random.Next(3) switch
    {
        0 => JunkSegments[random.Next(JunkSegments.Length)],
        1 => Uri.EscapeDataString(Text(random, 1, 40)),
        _ => Uri.EscapeDataString(Guid.NewGuid().ToString("N")),
    };

    private static string Query(Random random, FunctionDescriptor route)
    {
        if (random.Next(3) == 0)
        {
            return "";
        }

        var names = (route.Docs?.AllQueryParameters ?? []).Concat(["pageSize", "continuationToken", "validationToken", "token", "t", "format", "direction", "depth", Text(random, 1, 10)]).ToArray();
        var parts = new List<string>();
        for (var n = random.Next(1, 5); n > 0; n--)
        {
            var value = random.Next(8) switch
            {
                0 => "-1",
                1 => "99999999999999999999",
                2 => "%zz",
                3 => "%ED%A0%80",
                4 => new string('q', 3000),
                5 => "",
                6 => "true&dryRun=maybe",
                _ => Uri.EscapeDataString(Text(random, 1, 60)),
            };
            parts.Add($"{Uri.EscapeDataString(names[random.Next(names.Length)])}={value}");
        }

        return "?" + string.Join("&", parts);
    }

    /// <summary>A body that can never be accepted: not JSON, cut short, too deep, not UTF-8, an unpaired surrogate, or another shape.</summary>
    private static HttpContent Body(Random random, FunctionDescriptor route)
    {
        var valid = """{"type":"Incident","title":"Printer jams","verdict":"Approve","reason":"r","body":"b","class":"server","name":"n","policies":[],"matrix":[[1,1,1],[1,1,1],[1,1,1]]}""";
        HttpContent content = random.Next(9) switch
        {
            0 => Content(valid[..random.Next(1, valid.Length - 1)]),
            1 => Content(string.Concat(Enumerable.Repeat("[", 70 + random.Next(300)))),
            2 => new ByteArrayContent([.. Encoding.UTF8.GetBytes("""{"title":"caf"""), 0xC3, 0x28, (byte)random.Next(0x80, 0x100), .. Encoding.UTF8.GetBytes("\"}")]),
            3 => Content(valid.Replace("Printer jams", "Printer \\ud800 jams", StringComparison.Ordinal)),
            4 => Content("{\"" + Text(random, 1, 10) + "\":\"\\udc01\",\"title\":\"\\u0000\"}"),
            5 => Content(random.Next(2) == 0 ? "[]" : "\"just a string\""),
            6 => Content("<ticket><title>xml</title></ticket>"),
            7 => new FormUrlEncodedContent(new Dictionary<string, string> { ["t"] = Text(random, 0, 50), ["decision"] = "approve", ["access_token"] = Ascii(random, 0, 20) }),
            _ => Content(Text(random, 1, 200)),
        };
        if (random.Next(5) == 0)
        {
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(new[] { "text/plain", "text/csv", "application/octet-stream", "application/x-www-form-urlencoded", "application/json" }[random.Next(5)]);
        }

        return content;
    }

    /// <summary>Ids that exist in the demo tenant: tickets, changes, CIs and approvals.</summary>
    private static async Task<IReadOnlyDictionary<string, string[]>> KnownIdsAsync(HttpClient admin)
    {
        var tickets = (await admin.GetFromJsonAsync<JsonElement>("/api/tickets?pageSize=100")).GetProperty("items").EnumerateArray().ToArray();
        var changes = tickets.Where(t => t.GetProperty("type").GetString() == "Change").Select(t => t.GetProperty("id").GetString()!).ToArray();
        var approvals = new List<string>();
        foreach (var change in changes)
        {
            approvals.AddRange((await admin.GetFromJsonAsync<JsonElement>($"/api/changes/{change}/assessment")).GetProperty("approvals").EnumerateArray().Select(a => a.GetProperty("id").GetString()!));
        }

        return new Dictionary<string, string[]>
        {
            ["tickets"] = tickets.Select(t => t.GetProperty("id").GetString()!).ToArray(),
            ["changes"] = changes,
            ["cis"] = (await admin.GetFromJsonAsync<JsonElement>("/api/cis?pageSize=100")).GetProperty("items").EnumerateArray().Select(c => c.GetProperty("id").GetString()!).ToArray(),
            ["approvals"] = [.. approvals],
        };
    }

    /// <summary>Every row of every table of the app's database and of its task hub, as text, per table.</summary>
    private static Dictionary<string, string[]> Snapshot(string directory)
    {
        var tables = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var file in new[] { "itsm.db", "itsm.durable.db" })
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(directory, file), Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            connection.Open();
            using var list = connection.CreateCommand();
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
            var names = new List<string>();
            using (var reader = list.ExecuteReader())
            {
                while (reader.Read())
                {
                    names.Add(reader.GetString(0));
                }
            }

            // An FTS5 table's shadow tables (kb_fts_data, kb_fts_config, ...) hold index structure even when empty; the
            // virtual table itself (its indexed rows) is compared.
            using (var virtuals = connection.CreateCommand())
            {
                virtuals.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'";
                using var reader = virtuals.ExecuteReader();
                while (reader.Read())
                {
                    var prefix = reader.GetString(0) + "_";
                    names.RemoveAll(n => n.StartsWith(prefix, StringComparison.Ordinal));
                }
            }

            foreach (var name in names)
            {
                using var select = connection.CreateCommand();
                select.CommandText = $"SELECT * FROM \"{name}\"";
                var rows = new List<string>();
                using var reader = select.ExecuteReader();
                while (reader.Read())
                {
                    rows.Add(string.Join("\u001f", Enumerable.Range(0, reader.FieldCount).Select(c => Convert.ToString(reader.GetValue(c), System.Globalization.CultureInfo.InvariantCulture))));
                }

                tables[$"{file}:{name}"] = [.. rows.Order(StringComparer.Ordinal)];
            }
        }

        return tables;
    }

    private static string Text(Random random, int min, int max)
    {
        const string alphabet = "abcXYZ019 _-.:/\\\"'{}[]<>%&|=+@\u00e9\u00df\u4e2d\U0001F600\u202e\u0000\t\u0007";
        var length = random.Next(min, max + 1);
        var text = new StringBuilder();
        while (text.Length < length)
        {
            text.Append(alphabet[random.Next(alphabet.Length)]);
        }

        return text.ToString();
    }

    private static string Ascii(Random random, int min, int max)
    {
        var length = random.Next(min, max + 1);
        return new string(Enumerable.Range(0, length).Select(_ => (char)random.Next(0x21, 0x7f)).ToArray());
    }

    private static StringContent Content(string text) => new(text, Encoding.UTF8, "application/json");

    [GeneratedRegex(@"\{([^}]*)\}")]
    private static partial Regex RouteParameter();
}
