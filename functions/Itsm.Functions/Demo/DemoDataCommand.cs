using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Demo;

/// <summary>
/// <c>Itsm.Functions demo-data [--tenant TID] [--db PATH]</c>: fills a tenant with a small organisation to try the
/// product with: people with roles (their dev tokens are printed), business services and CIs with relationships,
/// tickets in every state with their history, CAB members and a change awaiting their approval. It starts the app
/// itself (on a free loopback port, against the configured database) and does everything through the API, so the
/// data is exactly what users would have made. Idempotent: a second run finds the demo loaded and only prints the
/// tokens again. Refused when <c>Itsm:Auth:Mode</c> is Entra (the people are dev-token users) and while the app runs
/// on the same database.
/// </summary>
public static class DemoDataCommand
{
    public const string Usage = "usage: Itsm.Functions demo-data [--tenant <tid, default local>] [--db <database path>]";
    public const string MarkerId = "demo-data";

    private static readonly string[] ValueOptions = ["--tenant", "--db"];

    /// <summary>The people of the demo organisation and what they may do.</summary>
    public static readonly IReadOnlyList<DemoPerson> People =
    [
        new("ana", "Ana Silva", "ana@contoso.com", [], "requester (marketing)"),
        new("ben", "Ben Okafor", "ben@contoso.com", [], "requester (finance)"),
        new("sam", "Sam Rivera", "sam@contoso.com", [AppRoles.Agent], "service desk agent"),
        new("priya", "Priya Nair", "priya@contoso.com", [AppRoles.Agent], "network engineer (agent)"),
        new("carol", "Carol Jensen", "carol@contoso.com", [AppRoles.ChangeManager, AppRoles.Approver], "change manager, CAB member"),
        new("dave", "Dave Kim", "dave@contoso.com", [AppRoles.Approver], "CAB member (approver)"),
        new("alex", "Alex Morgan", "alex@contoso.com", [AppRoles.Admin], "ITSM admin"),
    ];

    public static bool TryRun(string[] args, out int exitCode) =>
        TryRun(args, ItsmCommands.Configuration(), Console.Out, Console.Error, out exitCode);

    public static bool TryRun(string[] args, IConfiguration configuration, TextWriter output, TextWriter error, out int exitCode)
    {
        exitCode = 0;
        if (args.Length == 0 || args[0] != "demo-data")
        {
            return false;
        }

        var problems = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i < args.Length; i++)
        {
            if (!ValueOptions.Contains(args[i]))
            {
                problems.Add($"Unknown argument '{args[i]}'.");
            }
            else if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                problems.Add($"{args[i]} needs a value.");
            }
            else
            {
                values[args[i]] = args[++i];
            }
        }

        if (values.TryGetValue("--db", out var database))
        {
            configuration = new ConfigurationBuilder()
                .AddConfiguration(configuration)
                .AddInMemoryCollection(new Dictionary<string, string?> { [$"{ItsmOptions.SectionName}:Sqlite:Path"] = database })
                .Build();
        }

        var auth = AuthOptions.Bind(configuration, underFunctionsHost: false);
        if (auth.Mode == AuthMode.Entra)
        {
            problems.Add("Itsm:Auth:Mode is Entra: the demo's people are dev-token users, which this app would refuse. Load demo data into a standalone app with dev tokens only.");
        }

        var tenant = values.GetValueOrDefault("--tenant") ?? auth.TenantId ?? DevTokens.DefaultTenant;
        if (string.IsNullOrWhiteSpace(tenant) || tenant.Contains(DocumentKey.LevelSeparator, StringComparison.Ordinal))
        {
            problems.Add("--tenant must be a tenant id without '|'.");
        }

        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                error.WriteLine(problem);
            }

            error.WriteLine(Usage);
            exitCode = 2;
            return true;
        }

        exitCode = RunAsync(configuration, tenant, auth.DevKeyPath!, output, error).GetAwaiter().GetResult();
        return true;
    }

    private static async Task<int> RunAsync(IConfiguration configuration, string tenant, string keyPath, TextWriter output, TextWriter error)
    {
        WebApplication app;
        try
        {
            app = ItsmApp.BuildStandalone([], builder =>
            {
                builder.Configuration.AddConfiguration(configuration);
                builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
                {
                    [$"{ItsmOptions.SectionName}:Standalone:Urls"] = "http://127.0.0.1:0",
                    ["Logging:LogLevel:Default"] = "Warning",
                    ["Logging:LogLevel:Microsoft.Extensions.Hosting.Internal.Host"] = "None",
                });
            },
            announce: false);
        }
        catch (InvalidSettingsException ex)
        {
            error.WriteLine(ex.Message);
            return 2;
        }

        await using (app)
        {
            try
            {
                await app.StartAsync();
            }
            catch (InvalidOperationException ex) when (ex.Message.Contains("in use", StringComparison.Ordinal))
            {
                error.WriteLine("The app is running on this database. Stop it (Ctrl+C), run demo-data, and start it again.");
                return 2;
            }

            var time = app.Services.GetRequiredService<TimeProvider>();
            var tokens = People.ToDictionary(p => p.Id, p => DevTokens.Mint(keyPath, p.Id, p.Roles, tenant, p.Name, p.Email, DevTokens.DefaultLifetime, time.GetUtcNow()), StringComparer.Ordinal);
            var store = app.Services.GetRequiredService<IDocumentStore>();
            var markerKey = new DocumentKey(tenant, MarkerId);
            var loaded = await store.ReadAsync<DemoDataMarker>(TicketStore.Counters, markerKey);
            if (loaded is null)
            {
                using var api = new DemoApi(new Uri(app.Urls.First()), tokens);
                var summary = await LoadAsync(api, time);
                await store.CreateAsync(TicketStore.Counters, markerKey, new DemoDataMarker(MarkerId, tenant, time.GetUtcNow(), summary));
                output.WriteLine($"Demo data loaded into tenant '{tenant}': {summary}.");
            }
            else
            {
                output.WriteLine($"Demo data is already loaded in tenant '{tenant}' (since {loaded.Document.LoadedAt:u}: {loaded.Document.Summary}); nothing was changed.");
            }

            await app.StopAsync();
            output.WriteLine();
            output.WriteLine($"Dev tokens, valid {DevTokens.DefaultLifetime.TotalHours:0} hours (mint new ones with: token mint --user <id> --tenant {tenant} --roles ...):");
            foreach (var person in People)
            {
                output.WriteLine($"{person.Id.ToUpperInvariant()}={tokens[person.Id]}   # {person.Name}, {person.Description}");
            }

            output.WriteLine();
            output.WriteLine("Start the app and try, with those lines pasted into your shell:");
            output.WriteLine("  curl -s -H \"Authorization: Bearer $SAM\" http://localhost:7071/api/tickets");
            output.WriteLine("  curl -s -H \"Authorization: Bearer $CAROL\" http://localhost:7071/api/tickets?type=Change");
            return 0;
        }
    }

    /// <summary>The organisation, made through the API as its people would; every create carries an Idempotency-Key, so a run cut short and repeated makes nothing twice.</summary>
    private static async Task<string> LoadAsync(DemoApi api, TimeProvider time)
    {
        // Approvals: the default CAB policy, with its members.
        await api.SendAsync("alex", HttpMethod.Put, "/api/manage/approvals/settings", """
            {"policies":[{"id":"cab","name":"Change advisory board (normal changes)","changeTypes":["Normal"],"reminderAfterMinutes":1440,
              "levels":[{"name":"CAB","approvers":[{"kind":"Group","id":"cab"}],"rule":"Any","timeoutMinutes":4320,"onTimeout":"AutoReject"}]}],
             "groups":{"cab":["carol","dave"]}}
            """);

        // The CMDB: three business services and what they run on.
        var ci = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, json) in new[]
        {
            ("email", """{"class":"businessService","name":"Email","externalKey":"demo:svc:email","criticality":"High","ownerGroup":"messaging","attributes":{"serviceTier":1,"hoursOfService":"24x7"}}"""),
            ("vpn", """{"class":"businessService","name":"Remote access (VPN)","externalKey":"demo:svc:vpn","criticality":"High","ownerGroup":"network","attributes":{"serviceTier":1,"hoursOfService":"24x7"}}"""),
            ("payroll", """{"class":"businessService","name":"Payroll","externalKey":"demo:svc:payroll","criticality":"Critical","ownerGroup":"finance-apps","attributes":{"serviceTier":1,"hoursOfService":"business-hours"}}"""),
            ("vpn-gw", """{"class":"networkDevice","name":"vpn-gw-01","externalKey":"demo:net:vpn-gw-01","criticality":"High","supportGroup":"network","attributes":{"deviceType":"firewall","vendor":"Contoso Networks"}}"""),
            ("core-sw", """{"class":"networkDevice","name":"core-sw-01","externalKey":"demo:net:core-sw-01","criticality":"Critical","supportGroup":"network","attributes":{"deviceType":"switch","ports":48}}"""),
            ("esx", """{"class":"server","name":"esx-01","externalKey":"demo:srv:esx-01","criticality":"High","supportGroup":"infrastructure","attributes":{"operatingSystem":"ESXi 8","cpuCores":32,"memoryGb":512}}"""),
            ("vm", """{"class":"virtualMachine","name":"vm-payroll-01","externalKey":"demo:vm:payroll-01","supportGroup":"infrastructure","attributes":{"operatingSystem":"Windows Server 2022","cpuCores":8}}"""),
            ("app", """{"class":"application","name":"Payroll app","externalKey":"demo:app:payroll","supportGroup":"finance-apps","attributes":{"vendor":"Fabrikam","version":"12.4"}}"""),
            ("db", """{"class":"database","name":"payroll-db","externalKey":"demo:db:payroll","supportGroup":"finance-apps","attributes":{"engine":"sqlserver","sizeGb":120}}"""),
        })
        {
            ci[key] = Id(await api.SendAsync("priya", HttpMethod.Post, "/api/cis", json, $"ci:{key}"));
        }

        foreach (var (source, type, target) in new[]
        {
            ("payroll", "DependsOn", "app"), ("app", "RunsOn", "vm"), ("app", "DependsOn", "db"), ("db", "RunsOn", "vm"), ("vm", "HostedOn", "esx"),
            ("vpn", "DependsOn", "vpn-gw"), ("vpn-gw", "ConnectsTo", "core-sw"), ("esx", "ConnectsTo", "core-sw"),
        })
        {
            await api.SendAsync("priya", HttpMethod.Post, $"/api/cis/{ci[source]}/relationships", $$"""{"type":"{{type}}","targetId":"{{ci[target]}}"}""", $"rel:{source}:{type}:{target}");
        }

        // Tickets in every state, each with the history of how it got there.
        var vpnDrops = await RaiseAsync(api, "ana", "inc-vpn", $$"""{"type":"Incident","title":"VPN drops every few minutes","description":"Since this morning the VPN disconnects every 5-10 minutes.","impact":2,"urgency":1,"category":"Network","affectedService":"Remote access (VPN)","configurationItems":["{{ci["vpn-gw"]}}"]}""");
        await api.ActAsync("sam", vpnDrops, "comment", """{"body":"Thanks Ana, we are looking into it. Does it happen on the office Wi-Fi too?"}""");
        await api.PatchAsync("sam", vpnDrops, """{"assignmentGroup":"network","assignee":{"id":"priya","name":"Priya Nair","email":"priya@contoso.com"},"tags":["vpn"]}""");
        await api.ActAsync("priya", vpnDrops, "start", "{}");
        await api.ActAsync("priya", vpnDrops, "work-note", """{"body":"Gateway logs show IKE rekey failures every 8 minutes. Suspect the firmware."}""");
        await api.ActAsync("priya", vpnDrops, "time-entry", """{"minutes":45,"note":"Log analysis"}""");

        var sameVpn = await RaiseAsync(api, "ben", "inc-vpn-dup", """{"type":"Incident","title":"VPN keeps disconnecting","impact":3,"urgency":2,"category":"Network"}""");
        await api.ActAsync("sam", sameVpn, "merge", $$"""{"into":"{{vpnDrops}}"}""");

        await RaiseAsync(api, "ben", "inc-new", """{"type":"Incident","title":"Printer on floor 3 prints blank pages","impact":3,"urgency":3,"category":"Hardware"}""");

        var mail = await RaiseAsync(api, "ana", "inc-mail", $$"""{"type":"Incident","title":"Shared mailbox 'events' missing in Outlook","impact":3,"urgency":2,"category":"Email","configurationItems":["{{ci["email"]}}"]}""");
        await api.ActAsync("sam", mail, "start", "{}");
        await api.ActAsync("sam", mail, "comment", """{"body":"Could you send a screenshot of your folder list?"}""");
        await api.ActAsync("sam", mail, "hold", """{"holdReason":"AwaitingCaller"}""");

        var payslip = await RaiseAsync(api, "ben", "inc-payroll", $$"""{"type":"Incident","title":"Payroll export fails with a timeout","impact":2,"urgency":2,"category":"Applications","configurationItems":["{{ci["app"]}}"]}""");
        await api.ActAsync("sam", payslip, "start", "{}");
        await api.ActAsync("sam", payslip, "resolve", """{"resolutionCode":"Fixed","resolutionNotes":"Raised the export timeout to 10 minutes; the export ran."}""");

        var password = await RaiseAsync(api, "ana", "inc-password", """{"type":"Incident","title":"Cannot sign in after password change","impact":3,"urgency":1,"category":"Accounts"}""");
        await api.ActAsync("sam", password, "resolve", """{"resolutionCode":"Fixed","resolutionNotes":"Cleared the cached credentials on the laptop."}""");
        await api.ActAsync("ana", password, "close", "{}");

        var mistake = await RaiseAsync(api, "ben", "inc-cancel", """{"type":"Incident","title":"Monitor flickers","impact":3,"urgency":3,"category":"Hardware"}""");
        await api.ActAsync("ben", mistake, "cancel", """{"reason":"It was the cable; fixed it myself."}""");

        await RaiseAsync(api, "ben", "req-laptop", """{"type":"ServiceRequest","title":"New laptop for a new starter","description":"Starting 1 April: standard developer laptop.","impact":3,"urgency":2,"category":"Hardware"}""");
        var access = await RaiseAsync(api, "ana", "req-access", """{"type":"ServiceRequest","title":"Access to the marketing SharePoint site","impact":3,"urgency":3,"category":"Access"}""");
        await api.ActAsync("sam", access, "start", "{}");

        var problem = await RaiseAsync(api, "priya", "prb-vpn", $$"""{"type":"Problem","title":"VPN gateway drops tunnels at rekey","impact":2,"urgency":2,"configurationItems":["{{ci["vpn-gw"]}}"]}""");
        await api.ActAsync("priya", problem, "assess", "{}");
        await api.ActAsync("priya", problem, "analyse", "{}");
        await api.ActAsync("priya", vpnDrops, "link", $$"""{"kind":"CausedBy","ticketId":"{{problem}}"}""");

        // A normal change waiting for the CAB, and a standard change from the catalogue, scheduled without one.
        var start = time.GetUtcNow().AddDays(3);
        var firmware = await RaiseAsync(api, "priya", "chg-firmware", $$"""
            {"type":"Change","title":"Upgrade the VPN gateway firmware","description":"Vendor fix for the rekey failures.","impact":2,"urgency":2,"configurationItems":["{{ci["vpn-gw"]}}"],
             "change":{"changeType":"Normal","plannedStart":"{{start:O}}","plannedEnd":"{{start.AddHours(2):O}}","implementationPlan":"Fail over to the standby gateway, upgrade, fail back.","backoutPlan":"Reinstall the previous firmware image."} }
            """);
        await api.ActAsync("priya", problem, "link", $$"""{"kind":"ImplementedBy","ticketId":"{{firmware}}"}""");
        await api.ActAsync("priya", firmware, "submit", "{}");
        await api.SendAsync("alex", HttpMethod.Put, "/api/manage/changes/templates/tls-renewal", """
            {"name":"TLS certificate renewal","description":"Renew an expiring certificate on a load balancer.","implementationPlan":"Upload the new certificate and switch the listener.",
             "backoutPlan":"Switch the listener back to the old certificate.","durationMinutes":30,"category":"Certificates","assignmentGroup":"network"}
            """);
        var renewal = Id(await api.SendAsync("priya", HttpMethod.Post, "/api/changes/templates/tls-renewal/changes", $$"""{"plannedStart":"{{start.AddDays(1):O}}","title":"Renew the VPN portal certificate"}""", "chg-tls"));
        await api.ActAsync("priya", renewal, "submit", "{}");

        // The CAB's approval opens in the background: wait until its prompts are out.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await api.GetAsync("carol", $"/api/changes/{firmware}/assessment")).GetProperty("approvals").GetArrayLength() == 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException("The change's approval did not start within 30 seconds.");
            }

            await Task.Delay(100);
        }

        return $"{People.Count} people, {ci.Count} CIs (3 business services) with 8 relationships, 12 tickets in every state (7 incidents, 2 service requests, a problem, 2 changes), a normal change awaiting the CAB (carol, dave)";
    }

    private static async Task<string> RaiseAsync(DemoApi api, string user, string key, string json) =>
        Id(await api.SendAsync(user, HttpMethod.Post, "/api/tickets", json, $"ticket:{key}"));

    private static string Id(JsonElement created) => created.GetProperty("id").GetString()!;

    /// <summary>The app's API as the demo's people call it: each with their own dev token.</summary>
    private sealed class DemoApi(Uri address, IReadOnlyDictionary<string, string> tokens) : IDisposable
    {
        private readonly HttpClient _http = new() { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };

        public async Task<JsonElement> SendAsync(string user, HttpMethod method, string path, string json, string? key = null, string? ifMatch = null)
        {
            using var request = new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens[user]);
            if (key is not null)
            {
                request.Headers.TryAddWithoutValidation(Idempotency.Header, "demo-data:" + key);
            }

            if (ifMatch is not null)
            {
                request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
            }

            using var response = await _http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{method} {path} as {user}: {(int)response.StatusCode} {text}");
            }

            return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        }

        public Task<JsonElement> ActAsync(string user, string ticketId, string action, string json) =>
            SendAsync(user, HttpMethod.Post, $"/api/tickets/{ticketId}/actions/{action}", json, $"act:{ticketId}:{action}:{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(json)))[..16]}");

        public async Task PatchAsync(string user, string ticketId, string json)
        {
            using var read = new HttpRequestMessage(HttpMethod.Get, $"/api/tickets/{ticketId}");
            read.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens[user]);
            using var current = await _http.SendAsync(read);
            await SendAsync(user, HttpMethod.Patch, $"/api/tickets/{ticketId}", json, ifMatch: current.Headers.ETag?.ToString());
        }

        public async Task<JsonElement> GetAsync(string user, string path)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens[user]);
            using var response = await _http.SendAsync(request);
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        }

        public void Dispose() => _http.Dispose();
    }
}

public sealed record DemoPerson(string Id, string Name, string Email, IReadOnlyList<string> Roles, string Description);

/// <summary>Marks a tenant's demo data as loaded (in <c>counters</c>), so the command runs once per tenant.</summary>
public sealed record DemoDataMarker(string Id, string TenantId, DateTimeOffset LoadedAt, string Summary);
