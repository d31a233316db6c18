using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Hosting.Standalone;
using Itsm.Functions.Security;
using Itsm.Functions.Storage.Sqlite;
using Itsm.Functions.Tests.Support;
using Microsoft.DurableTask.Client;

namespace Itsm.Functions.Tests.Durable;

/// <summary>
/// A database written by version 0.1.0 (its own Durable engine, a running SLA clock and a pending approval, see
/// Fixtures/legacy-0.1.0/README.md) opened by this version: nothing in flight is lost.
/// </summary>
public class LegacyUpgradeTests
{
    private const string Incident = "45893c7e15a94e2e8a1bd4163f455619";
    private const string ChangeId = "ec9b9dbbddfb44c79114d9943490ca9d";
    private const string Approval = "ec9b9dbbddfb44c79114d9943490ca9d-r2";
    private static readonly DateTimeOffset Raised = DateTimeOffset.Parse("2026-12-03T08:25:51.3237731+00:00", System.Globalization.CultureInfo.InvariantCulture);
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "legacy-0.1.0", "itsm.db");

    private static async Task<StandaloneApp> StartOnCopyAsync(FakeTimeProvider clock, string? directory = null)
    {
        directory ??= TempDirectory.Create();
        if (!File.Exists(Path.Combine(directory, "itsm.db")))
        {
            File.Copy(Fixture, Path.Combine(directory, "itsm.db"));
        }

        var app = await StandaloneApp.StartAsync(directory: directory, clock: clock);
        await app.WaitForDurableIdleAsync();
        return app;
    }

    private static bool HasTable(string databasePath, string table)
    {
        using var connection = new SqliteDatabase(databasePath).Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $name";
        command.Parameters.AddWithValue("$name", table);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    [Fact]
    public async Task The_running_clock_and_the_pending_approval_get_their_orchestrations_and_the_old_tables_are_dropped()
    {
        var clock = new FakeTimeProvider(Raised.AddMinutes(10));
        await using var app = await StartOnCopyAsync(clock);

        var durable = app.Services.GetRequiredService<DurableTaskClient>();
        var sla = await durable.GetInstanceAsync($"sla:contoso:{Incident}:resolution:1");
        var approval = await durable.GetInstanceAsync($"approval:contoso:{Approval}");
        Assert.Equal(OrchestrationRuntimeStatus.Running, sla?.RuntimeStatus);
        Assert.Equal(OrchestrationRuntimeStatus.Running, approval?.RuntimeStatus);
        Assert.False(HasTable(app.DatabasePath, "durable_instances"));
        Assert.False(HasTable(app.DatabasePath, "durable_history"));
        Assert.False(HasTable(app.DatabasePath, "durable_messages"));
        Assert.False(HasTable(app.DatabasePath, "durable_activities"));
    }

    [Fact]
    public async Task The_carried_over_clock_warns_and_breaches_at_the_instants_the_old_policy_set()
    {
        var clock = new FakeTimeProvider(Raised.AddMinutes(10));
        await using var app = await StartOnCopyAsync(clock);
        var agent = app.As("sam", "contoso", AppRoles.Agent);

        clock.Advance(TimeSpan.FromMinutes(55));
        await app.WaitForDurableIdleAsync();

        var history = await agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{Incident}/history");
        var sla = history.GetProperty("items").EnumerateArray().Where(e => e.GetProperty("action").GetString()!.StartsWith("sla.", StringComparison.Ordinal)).ToArray();
        var warning = Assert.Single(sla, e => e.GetProperty("action").GetString() == "sla.warning");
        var breach = Assert.Single(sla, e => e.GetProperty("action").GetString() == "sla.breach");
        Assert.Equal(Raised.AddMinutes(30), Change(warning, "reachedAt"));
        Assert.Equal(Raised.AddMinutes(60), Change(breach, "breachedAt"));
    }

    private static DateTimeOffset Change(JsonElement auditEvent, string field) =>
        auditEvent.GetProperty("changes").EnumerateArray().Single(c => c.GetProperty("field").GetString() == field).GetProperty("new").GetDateTimeOffset();

    [Fact]
    public async Task The_carried_over_approval_completes_on_the_approvers_answer_and_schedules_the_change()
    {
        var clock = new FakeTimeProvider(Raised.AddMinutes(10));
        await using var app = await StartOnCopyAsync(clock);

        var answer = await app.As("bob", "contoso", AppRoles.Approver).PostAsync($"/api/approvals/{Approval}/decisions", new StringContent("""{"verdict":"Approve"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        await app.WaitForDurableIdleAsync();

        var agent = app.As("sam", "contoso", AppRoles.Agent);
        Assert.Equal("Approved", (await agent.GetFromJsonAsync<JsonElement>($"/api/approvals/{Approval}")).GetProperty("state").GetString());
        Assert.Equal("Scheduled", (await agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{ChangeId}")).GetProperty("state").GetString());
        var instance = await app.Services.GetRequiredService<DurableTaskClient>().GetInstanceAsync($"approval:contoso:{Approval}");
        Assert.Equal(OrchestrationRuntimeStatus.Completed, instance?.RuntimeStatus);
    }

    [Fact]
    public async Task A_second_start_finds_nothing_to_upgrade_and_starts_nothing_twice()
    {
        var directory = TempDirectory.Create();
        var clock = new FakeTimeProvider(Raised.AddMinutes(10));
        await using (await StartOnCopyAsync(clock, directory))
        {
        }

        await using var again = await StartOnCopyAsync(clock, directory);
        Assert.Equal(0, await again.Services.GetRequiredService<LegacyDurableUpgrade>().RunAsync(CancellationToken.None));
        var instances = new List<string>();
        await foreach (var instance in again.Services.GetRequiredService<DurableTaskClient>().GetAllInstancesAsync(new OrchestrationQuery()))
        {
            instances.Add(instance.InstanceId);
        }

        Assert.Equal([$"approval:contoso:{Approval}", $"sla:contoso:{Incident}:resolution:1"], instances.Order(StringComparer.Ordinal));
    }
}
