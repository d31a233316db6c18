using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Cmdb;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace Itsm.Functions.Tests.Cmdb;

/// <summary>CSV import and export: idempotent on the external key, per-row reports, dry runs, the API job and the command.</summary>
public class CmdbImportTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private const string Cis = """
        externalKey,class,name,status,criticality,supportGroup,attr.cpuCores,attr.version
        srv-1,server,web-01,Operational,High,Infra,8,
        app-1,application,Payroll app,,Critical,Apps,,2.1
        bad-1,server,broken,,,,eight,
        bad-2,toaster,t,,,,,
        svc-1,businessService,Payroll,,,,,
        """;

    private const string Relationships = """
        sourceKey,type,targetKey
        app-1,RunsOn,srv-1
        svc-1,DependsOn,app-1
        app-1,DependsOn,app-1
        app-1,DependsOn,missing
        app-1,Likes,srv-1
        """;

    private static Task<ImportReport> ImportAsync(StandaloneApp app, string csv, ImportKind kind, bool dryRun = false, string tenant = "contoso") =>
        app.Services.GetRequiredService<CmdbImporter>().ImportAsync(tenant, "importer", kind, CmdbImporter.ReadAll(csv, kind).Items, dryRun, null, CancellationToken.None);

    private static async Task<int> CountAsync(StandaloneApp app, string tenant = "contoso") =>
        (await app.Services.GetRequiredService<CmdbStore>().QueryAsync(tenant, [], new("name", false), 100, null, CancellationToken.None)).Items.Count;

    [Fact]
    public async Task Good_rows_are_applied_and_each_bad_row_is_reported_with_row_column_and_reason()
    {
        await using var app = await StandaloneApp.StartAsync();

        var report = await ImportAsync(app, Cis, ImportKind.Cis);

        Assert.Equal((5, 3, 2), (report.Rows, report.Created, report.Rejected));
        Assert.Contains(report.Errors, e => e is { Row: 4, Column: "attr.cpuCores" } && e.Reason.Contains("whole number", StringComparison.Ordinal));
        Assert.Contains(report.Errors, e => e is { Row: 5, Column: "class" });
        Assert.Equal(3, await CountAsync(app));
    }

    [Fact]
    public async Task Importing_the_same_file_again_changes_nothing_and_a_changed_row_updates_the_same_ci()
    {
        await using var app = await StandaloneApp.StartAsync();
        await ImportAsync(app, Cis, ImportKind.Cis);
        var store = app.Services.GetRequiredService<CmdbStore>();
        var before = await store.ReadByExternalKeyAsync("contoso", "srv-1", CancellationToken.None);

        var again = await ImportAsync(app, Cis, ImportKind.Cis);
        var changed = await ImportAsync(app, "externalKey,class,name,status\nsrv-1,server,web-01,Maintenance\n", ImportKind.Cis);
        var after = await store.ReadByExternalKeyAsync("contoso", "srv-1", CancellationToken.None);
        var history = await store.HistoryAsync("contoso", after!.Document.Id, CancellationToken.None);

        Assert.Equal((0, 0, 3), (again.Created, again.Updated, again.Unchanged));
        Assert.Equal(1, changed.Updated);
        Assert.Equal(3, await CountAsync(app));
        Assert.Equal(before!.Document.Id, after.Document.Id);
        Assert.Equal(CiStatus.Maintenance, after.Document.Status);
        Assert.Equal(["created", "updated"], history.Select(h => h.Action));
        Assert.All(history, h => Assert.Equal("import", h.Channel));
    }

    [Fact]
    public async Task Relationship_rows_are_idempotent_and_self_missing_and_unknown_type_rows_are_rejected()
    {
        await using var app = await StandaloneApp.StartAsync();
        await ImportAsync(app, Cis, ImportKind.Cis);

        var first = await ImportAsync(app, Relationships, ImportKind.Relationships);
        var second = await ImportAsync(app, Relationships, ImportKind.Relationships);

        Assert.Equal((2, 3), (first.Created, first.Rejected));
        Assert.Equal((0, 2, 3), (second.Created, second.Unchanged, second.Rejected));
        Assert.Equal(["targetKey", "targetKey", "type"], first.Errors.Select(e => e.Column));
        Assert.Equal([4, 5, 6], first.Errors.Select(e => e.Row));
        var services = await app.Services.GetRequiredService<CmdbService>().AffectedServicesAsync("contoso", [ConfigurationItem.IdFor("srv-1")], CancellationToken.None);
        Assert.Equal(["Payroll"], services.Select(s => s.Name));
    }

    [Fact]
    public async Task Parallel_workers_apply_rows_of_the_same_key_in_file_order_and_report_every_row()
    {
        await using var app = await StandaloneApp.StartAsync();
        var rows = new System.Text.StringBuilder("externalKey,class,name,status\n");
        for (var i = 0; i < 300; i++)
        {
            rows.Append(System.Globalization.CultureInfo.InvariantCulture, $"k-{i % 100},server,srv-{i % 100},{(i < 200 ? "Planned" : "Operational")}\n");
        }

        var report = await app.Services.GetRequiredService<CmdbImporter>().ImportAsync(
            "contoso", "importer", ImportKind.Cis, CmdbImporter.ReadAll(rows.ToString(), ImportKind.Cis).Items, false, null, CancellationToken.None, parallelism: 4);
        var store = app.Services.GetRequiredService<CmdbStore>();
        var statuses = new List<CiStatus>();
        for (var i = 0; i < 100; i++)
        {
            statuses.Add((await store.ReadByExternalKeyAsync("contoso", $"k-{i}", CancellationToken.None))!.Document.Status);
        }

        Assert.Equal((300, 100, 100, 100), (report.Rows, report.Created, report.Unchanged, report.Updated));
        Assert.All(statuses, s => Assert.Equal(CiStatus.Operational, s));
    }

    [Fact]
    public async Task Rows_written_together_keep_file_order_for_a_repeated_key_and_every_ci_event_reaches_the_feed_once()
    {
        await using var app = await StandaloneApp.StartAsync();
        var rows = new StringBuilder("externalKey,class,name,status\n");
        for (var i = 0; i < 1_200; i++)
        {
            // Keys repeat inside a chunk (rows 400-499) and across chunks; the last 400 rows change every CI.
            rows.Append(System.Globalization.CultureInfo.InvariantCulture, $"k-{i % 400},server,srv-{i % 400},{(i < 800 ? "Planned" : "Operational")}\n");
        }

        rows.Append("k-bad,toaster,t,\n");
        var report = await ImportAsync(app, rows.ToString(), ImportKind.Cis);
        var relationships = await ImportAsync(app, "sourceKey,type,targetKey\nk-1,DependsOn,k-2\nk-1,DependsOn,k-2\nk-2,DependsOn,k-1\n", ImportKind.Relationships);

        Assert.Equal((1_201, 400, 400, 400, 1), (report.Rows, report.Created, report.Unchanged, report.Updated, report.Rejected));
        Assert.Equal(1_202, Assert.Single(report.Errors).Row);
        Assert.Equal((2, 1), (relationships.Created, relationships.Unchanged));
        var store = app.Services.GetRequiredService<CmdbStore>();
        var ci = (await store.ReadByExternalKeyAsync("contoso", "k-7", CancellationToken.None))!.Document;
        Assert.Equal((CiStatus.Operational, 2), (ci.Status, ci.Revision));
        Assert.Equal(["created", "updated"], (await store.HistoryAsync("contoso", ci.Id, CancellationToken.None)).Select(h => h.Action).Where(a => a is "created" or "updated"));

        var feed = await app.Services.GetRequiredService<Itsm.Functions.Events.EventLog>().ReadAsync("contoso", 0, 500, CancellationToken.None);
        var more = await app.Services.GetRequiredService<Itsm.Functions.Events.EventLog>().ReadAsync("contoso", feed.Next, 500, CancellationToken.None);
        var events = feed.Items.Concat(more.Items).Where(e => e.Type.StartsWith("ci.", StringComparison.Ordinal)).ToList();
        Assert.Equal(800, events.Count);
        Assert.Equal(events.Select(e => e.Position).Order(), events.Select(e => e.Position));
        Assert.All(events.GroupBy(e => e.Subject.Id), g => Assert.Equal(["ci.created", "ci.updated"], g.Select(e => e.Type)));
        var pending = await store.Documents.QueryAsync<Itsm.Functions.Events.PendingEvent>(
            CmdbStore.Cis, new("contoso", [new("docType", Itsm.Functions.Storage.FilterOperator.Equals, Itsm.Functions.Events.PendingEvent.DocumentType)], null, 10), CancellationToken.None);
        Assert.Empty(pending.Items);
    }

    [Fact]
    public async Task A_dry_run_classifies_every_row_and_writes_nothing()
    {
        await using var app = await StandaloneApp.StartAsync();

        var report = await ImportAsync(app, Cis, ImportKind.Cis, dryRun: true);

        Assert.Equal((3, 2), (report.Created, report.Rejected));
        Assert.Equal(0, await CountAsync(app));
    }

    [Fact]
    public async Task An_export_imports_back_unchanged_into_another_tenant_and_again_into_its_own()
    {
        await using var app = await StandaloneApp.StartAsync();
        await ImportAsync(app, Cis.Replace("Payroll,", "-Payroll,", StringComparison.Ordinal), ImportKind.Cis);
        await ImportAsync(app, Relationships, ImportKind.Relationships);
        var importer = app.Services.GetRequiredService<CmdbImporter>();
        var cis = new StringWriter();
        var relationships = new StringWriter();
        await importer.ExportCisAsync("contoso", cis, CancellationToken.None);
        await importer.ExportRelationshipsAsync("contoso", relationships, CancellationToken.None);

        var own = await ImportAsync(app, cis.ToString(), ImportKind.Cis);
        var copied = await ImportAsync(app, cis.ToString(), ImportKind.Cis, tenant: "fabrikam");
        var copiedRelationships = await ImportAsync(app, relationships.ToString(), ImportKind.Relationships, tenant: "fabrikam");

        Assert.Contains("'-Payroll", cis.ToString(), StringComparison.Ordinal);
        Assert.Equal((3, 0), (own.Unchanged, own.Rejected));
        Assert.Equal((3, 0), (copied.Created, copied.Rejected));
        Assert.Equal((2, 0), (copiedRelationships.Created, copiedRelationships.Rejected));
        Assert.Equal(3, await CountAsync(app, "fabrikam"));
    }

    [Fact]
    public async Task The_api_runs_an_import_as_a_job_whose_status_reports_progress_counts_and_rejected_rows()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("sam", "contoso", AppRoles.Agent);

        var dry = await agent.PostAsync("/api/cmdb/imports?kind=cis&dryRun=true", new StringContent(Cis, Encoding.UTF8, "text/csv"));
        await app.WaitForDurableIdleAsync(Patience);
        var dryStatus = await agent.GetFromJsonAsync<JsonElement>(dry.Headers.Location);
        var countAfterDryRun = await CountAsync(app);
        var real = await agent.PostAsync("/api/cmdb/imports?kind=cis", new StringContent(Cis, Encoding.UTF8, "text/csv"));
        await app.WaitForDurableIdleAsync(Patience);
        var status = await agent.GetFromJsonAsync<JsonElement>(real.Headers.Location);
        var semicolons = await agent.PostAsync("/api/cmdb/imports?kind=cis", new StringContent("externalKey;class;name\nk;server;x\n"));
        var otherTenant = await app.As("x", "fabrikam", AppRoles.Agent).GetAsync(real.Headers.Location);
        var export = await agent.GetAsync("/api/cmdb/export/cis");

        Assert.Equal(HttpStatusCode.Accepted, dry.StatusCode);
        Assert.Equal("Completed", dryStatus.GetProperty("status").GetString());
        Assert.Equal(3, dryStatus.GetProperty("created").GetInt32());
        Assert.Equal(0, countAfterDryRun);
        Assert.Equal(HttpStatusCode.Accepted, real.StatusCode);
        Assert.Equal(("Completed", 5, 100, 3, 2), (status.GetProperty("status").GetString(), status.GetProperty("processedRows").GetInt32(), status.GetProperty("percent").GetInt32(), status.GetProperty("created").GetInt32(), status.GetProperty("rejected").GetInt32()));
        var rejected = status.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("row").GetInt32(), e.GetProperty("column").GetString())).ToList();
        Assert.Equal([(4, "attr.cpuCores"), (5, "class")], rejected);
        Assert.Equal(3, await CountAsync(app));
        Assert.Equal(HttpStatusCode.BadRequest, semicolons.StatusCode);
        Assert.Contains("delimiter", await semicolons.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, otherTenant.StatusCode);
        Assert.Equal("text/csv", export.Content.Headers.ContentType!.MediaType);
        Assert.Contains("srv-1,server,web-01", await export.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_command_imports_a_file_with_a_progress_bar_and_exit_code_one_when_rows_were_rejected()
    {
        var directory = TempDirectory.Create();
        var file = Path.Combine(directory, "cis.csv");
        var report = Path.Combine(directory, "errors.csv");
        await File.WriteAllTextAsync(file, Cis);
        var database = Path.Combine(directory, "itsm.db");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Itsm:Sqlite:Path"] = database }).Build();
        var error = new StringWriter();

        var handled = CmdbCommand.TryRun(["cmdb", "import", "--tenant", "contoso", "--kind", "cis", "--file", file, "--report", report], configuration, TextWriter.Null, error, out var exitCode);
        var again = new StringWriter();
        CmdbCommand.TryRun(["cmdb", "import", "--tenant", "contoso", "--kind", "cis", "--file", file], configuration, TextWriter.Null, again, out _);
        var usage = new StringWriter();
        CmdbCommand.TryRun(["cmdb", "import", "--kind", "nope"], configuration, TextWriter.Null, usage, out var usageExit);

        Assert.True(handled);
        Assert.Equal(1, exitCode);
        Assert.Contains("[##############################] 100", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("3 created", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("row 4, column attr.cpuCores", error.ToString(), StringComparison.Ordinal);
        Assert.StartsWith("row,column,reason\n4,attr.cpuCores,", await File.ReadAllTextAsync(report), StringComparison.Ordinal);
        Assert.Contains("3 unchanged", again.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, usageExit);
        Assert.Contains("--tenant is required", usage.ToString(), StringComparison.Ordinal);

        // The command places the new CIs' events in the tenant's feed itself (the app need not be running).
        var feed = await new Itsm.Functions.Events.EventLog(new Itsm.Functions.Storage.Sqlite.SqliteDocumentStore(new Itsm.Functions.Storage.Sqlite.SqliteDatabase(database)), TimeProvider.System)
            .ReadAsync("contoso", 0, 100, CancellationToken.None);
        Assert.Equal(["ci.created", "ci.created", "ci.created"], feed.Items.Select(e => e.Type));
    }
}
