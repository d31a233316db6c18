using System.Net.Http.Json;
using System.Text.Json;
using Itsm.Functions.Reports;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Tests.Reports;

/// <summary>Counting is crash-safe: a write whose counting never ran (the process died after the write) is counted by the sweep, once.</summary>
public class ReportCountingTests
{
    [Fact]
    public async Task A_write_whose_counting_was_cut_off_is_counted_by_the_sweep_and_counting_again_changes_nothing()
    {
        await using var app = await StandaloneApp.StartAsync();
        var tickets = app.Services.GetRequiredService<TicketStore>();
        var caller = new CallerPrincipal("contoso", "bob", "Bob", null, new HashSet<string> { AppRoles.Agent });
        var ticket = new TicketBuilder().With(t => t with { AssignmentGroup = "Network" }).Build();
        var audit = new AuditEvent { Id = Guid.NewGuid().ToString("N"), TenantId = "contoso", TicketId = ticket.Id, At = ticket.CreatedAt, Actor = "bob", Channel = "api", Action = "created" };

        // The write and its follow-ups are stored; nothing carries them out (as when the process is killed right after).
        await tickets.CreateAsync(ticket, audit, CancellationToken.None, new TicketWriteContext(null, caller));
        var agent = app.As("bob", "contoso", AppRoles.Agent);
        Assert.Empty((await VolumeAsync(agent)).GetProperty("rows").EnumerateArray());

        app.Clock.Advance(TicketFollowUps.SweepAge + TimeSpan.FromSeconds(1));
        await app.Services.GetRequiredService<TicketFollowUps>().SweepAsync(CancellationToken.None);
        Assert.Equal(1, Created(await VolumeAsync(agent)));

        await app.Services.GetRequiredService<ReportStore>().CountAsync("contoso", ticket.Id, CancellationToken.None);
        await app.Services.GetRequiredService<TicketFollowUps>().SweepAsync(CancellationToken.None);
        Assert.Equal(1, Created(await VolumeAsync(agent)));
    }

    private static async Task<JsonElement> VolumeAsync(HttpClient agent) =>
        await (await agent.GetAsync("/api/reports/volume?from=2026-03-01&to=2026-03-10&by=all")).Content.ReadFromJsonAsync<JsonElement>();

    private static double Created(JsonElement report) =>
        report.GetProperty("rows").EnumerateArray().Single().GetProperty("values").GetProperty("created").GetDouble();
}
