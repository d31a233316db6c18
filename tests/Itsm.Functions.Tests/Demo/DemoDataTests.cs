using System.Net.Http.Json;
using System.Text.Json;
using Itsm.Functions.Demo;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace Itsm.Functions.Tests.Demo;

/// <summary><c>demo-data</c>: a small organisation to try the product with, loaded once, never in Entra mode.</summary>
public class DemoDataTests
{
    [Fact]
    public async Task Demo_data_fills_a_tenant_with_people_cis_tickets_in_every_state_and_a_change_awaiting_approval_once()
    {
        var directory = TempDirectory.Create();
        var (exitCode, output, _) = Run(directory);
        Assert.Equal(0, exitCode);
        Assert.All(DemoDataCommand.People, p => Assert.Contains($"{p.Id.ToUpperInvariant()}=ey", output, StringComparison.Ordinal));

        await using (var app = await StandaloneApp.StartAsync(directory: directory, clock: new FakeTimeProvider(DateTimeOffset.UtcNow)))
        {
            var sam = app.As("sam", "local", AppRoles.Agent);
            var tickets = (await sam.GetFromJsonAsync<JsonElement>("/api/tickets?pageSize=100")).GetProperty("items").EnumerateArray().ToArray();
            var states = tickets.Select(t => (t.GetProperty("type").GetString(), t.GetProperty("state").GetString())).ToHashSet();
            foreach (var state in new[] { "New", "InProgress", "OnHold", "Resolved", "Closed", "Cancelled" })
            {
                Assert.Contains(("Incident", state), states);
            }

            Assert.Contains(("ServiceRequest", "New"), states);
            Assert.Contains(("Problem", "RootCauseAnalysis"), states);
            Assert.Contains(("Change", "Authorize"), states);
            Assert.Contains(("Change", "Scheduled"), states);

            var vpn = tickets.Single(t => t.GetProperty("title").GetString() == "VPN drops every few minutes");
            var history = (await sam.GetFromJsonAsync<JsonElement>($"/api/tickets/{vpn.GetProperty("id").GetString()}/history")).GetProperty("items").EnumerateArray().Select(e => e.GetProperty("action").GetString()).ToArray();
            Assert.Contains("comment", history);
            Assert.Contains("work-note", history);
            Assert.Contains("merged-in", history);
            Assert.Contains("sla.started", history);

            var cis = (await sam.GetFromJsonAsync<JsonElement>("/api/cis?pageSize=100")).GetProperty("items").EnumerateArray().ToArray();
            Assert.Equal(9, cis.Length);
            var esx = cis.Single(c => c.GetProperty("name").GetString() == "esx-01").GetProperty("id").GetString();
            var impact = await sam.GetFromJsonAsync<JsonElement>($"/api/cis/{esx}/impact?depth=5");
            Assert.Contains(impact.GetProperty("businessServices").EnumerateArray(), s => s.GetProperty("name").GetString() == "Payroll");

            var change = tickets.Single(t => t.GetProperty("state").GetString() == "Authorize").GetProperty("id").GetString();
            var approval = (await sam.GetFromJsonAsync<JsonElement>($"/api/changes/{change}/assessment")).GetProperty("approvals")[0];
            Assert.Equal("Pending", approval.GetProperty("state").GetString());
        }

        var (again, secondOutput, _) = Run(directory);
        Assert.Equal(0, again);
        Assert.Contains("already loaded", secondOutput, StringComparison.Ordinal);
        await using (var app = await StandaloneApp.StartAsync(directory: directory, clock: new FakeTimeProvider(DateTimeOffset.UtcNow)))
        {
            var list = await app.As("sam", "local", AppRoles.Agent).GetFromJsonAsync<JsonElement>("/api/tickets?pageSize=100");
            Assert.Equal(12, list.GetProperty("items").GetArrayLength());
        }
    }

    [Fact]
    public void Demo_data_is_refused_when_only_entra_tokens_are_trusted_and_nothing_is_created()
    {
        var directory = TempDirectory.Create();
        var (exitCode, _, error) = Run(directory, new Dictionary<string, string?>
        {
            ["Itsm:Auth:Mode"] = "Entra",
            ["Itsm:Auth:TenantId"] = "9c1f0e5a-0000-4000-8000-000000000001",
            ["Itsm:Auth:Audience"] = "api://itsm",
        });

        Assert.Equal(2, exitCode);
        Assert.Contains("Entra", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(directory, "itsm.db")));
    }

    private static (int ExitCode, string Output, string Error) Run(string directory, Dictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?> { ["Itsm:Sqlite:Path"] = Path.Combine(directory, "itsm.db") };
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.True(DemoDataCommand.TryRun(["demo-data"], new ConfigurationBuilder().AddInMemoryCollection(all).Build(), output, error, out var exitCode));
        return (exitCode, output.ToString(), error.ToString());
    }
}
