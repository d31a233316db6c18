using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Approvals;

namespace Itsm.Functions.Tests.Catalog;

/// <summary>
/// What happens to an ordered request, end to end through the standalone app: the item's approval policy holds it until
/// approved, its fulfilment tasks open stage by stage in their groups' queues, the request resolves when the last task
/// is finished and cancelling it cancels the open tasks; its delivery target is the resolution target of its SLA.
/// </summary>
public class CatalogFulfilmentTests
{
    private const string Approvals = """
        {"policies":[
           {"id":"manager","name":"Manager approval","ticketType":"ServiceRequest","categories":["never-matches"],
            "levels":[{"name":"Manager","approvers":[{"kind":"RequesterManager"}]}]}],
         "managers":{"rita":"mona"}}
        """;

    private const string NewStarter = """
        {"name":"New starter kit","category":"hardware",
         "variables":[{"name":"phone","label":"Phone","type":"Choice","required":true,"choices":[{"value":"yes","label":"Yes"},{"value":"no","label":"No"}]}],
         "fulfilment":[
           {"key":"account","name":"Create the account","assignmentGroup":"identity","stage":1},
           {"key":"laptop","name":"Image a laptop","assignmentGroup":"desk","stage":1},
           {"key":"phone","name":"Order a phone","assignmentGroup":"telecom","stage":1,"when":{"variable":"phone","values":["yes"]}},
           {"key":"handover","name":"Hand over","assignmentGroup":"desk","stage":2}]}
        """;

    private static async Task<CatalogHarness> StartAsync(string item = NewStarter)
    {
        var h = await CatalogApiTests.StartAsync(Approvals);
        await h.PutItemAsync("new-starter", item);
        return h;
    }

    private static Dictionary<string, string> States(JsonElement request) =>
        request.GetProperty("fulfilment").GetProperty("tasks").EnumerateArray().ToDictionary(t => t.GetProperty("key").GetString()!, t => t.GetProperty("state").GetString()!);

    private static async Task<JsonElement> TicketAsync(CatalogHarness h, string id) =>
        await h.H.Agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{id}");

    private static async Task<HttpResponseMessage> ActAsync(CatalogHarness h, string id, string key, string action, string body = "{}") =>
        await h.H.Agent.PostAsync($"/api/catalog/requests/{id}/tasks/{key}/{action}", ApprovalHarness.Json(body));

    [Fact]
    public async Task Tasks_open_stage_by_stage_in_their_groups_queues_and_the_request_resolves_when_the_last_is_closed()
    {
        await using var h = await StartAsync();
        var id = (await h.OrderAsync(h.Requester("rita"), "new-starter", """{"variables":{"phone":"no"}}""")).GetProperty("id").GetString()!;

        var request = await TicketAsync(h, id);
        Assert.Equal("InProgress", request.GetProperty("state").GetString());
        Assert.Equal(new Dictionary<string, string> { ["account"] = "Open", ["laptop"] = "Open", ["phone"] = "Skipped", ["handover"] = "Pending" }, States(request));
        var deskQueue = (await h.H.Agent.GetFromJsonAsync<JsonElement>("/api/catalog/tasks?assignmentGroup=desk")).GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal(["Image a laptop"], deskQueue.Select(t => t.GetProperty("name").GetString()));
        Assert.Equal(HttpStatusCode.Forbidden, (await h.Requester("rita").GetAsync("/api/catalog/tasks")).StatusCode);

        // Not by hand while tasks are open, and a task of a later stage waits.
        var resolve = await h.H.Agent.PostAsync($"/api/tickets/{id}/actions/resolve", ApprovalHarness.Json("""{"resolutionCode":"Done","resolutionNotes":"x"}"""));
        Assert.Equal(HttpStatusCode.Conflict, resolve.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await ActAsync(h, id, "handover", "start")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ActAsync(h, id, "account", "close")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await ActAsync(h, id, "account", "start")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(h, id, "account", "close", """{"notes":"Account ana created."}""")).StatusCode);
        Assert.Equal("Pending", States(await TicketAsync(h, id))["handover"]);
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(h, id, "laptop", "close", """{"notes":"Imaged."}""")).StatusCode);
        Assert.Equal("Open", States(await TicketAsync(h, id))["handover"]);
        Assert.Equal(["Hand over"], (await h.H.Agent.GetFromJsonAsync<JsonElement>("/api/catalog/tasks?assignmentGroup=desk")).GetProperty("items").EnumerateArray().Select(t => t.GetProperty("name").GetString()));

        var last = await ActAsync(h, id, "handover", "close", """{"notes":"Handed over."}""");
        Assert.Equal(HttpStatusCode.OK, last.StatusCode);
        request = await TicketAsync(h, id);
        Assert.Equal(("Resolved", "Fulfilled"), (request.GetProperty("state").GetString(), request.GetProperty("resolution").GetProperty("code").GetString()));
        Assert.Empty((await h.H.Agent.GetFromJsonAsync<JsonElement>("/api/catalog/tasks")).GetProperty("items").EnumerateArray());
        var history = (await h.H.Agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{id}/history")).GetProperty("items").EnumerateArray().Select(e => e.GetProperty("action").GetString()).ToArray();
        Assert.Contains("fulfilment.started", history);
        Assert.Contains("task.close", history);
        Assert.Contains("fulfilment.finished", history);
    }

    [Fact]
    public async Task Cancelling_the_request_cancels_its_open_tasks()
    {
        await using var h = await StartAsync();
        var id = (await h.OrderAsync(h.Requester("rita"), "new-starter", """{"variables":{"phone":"yes"}}""")).GetProperty("id").GetString()!;

        // Another tenant's agent neither sees its tasks nor works them.
        var outsider = h.H.App.As("fay", "fabrikam", AppRoles.Agent);
        Assert.Empty((await outsider.GetFromJsonAsync<JsonElement>("/api/catalog/tasks")).GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await outsider.PostAsync($"/api/catalog/requests/{id}/tasks/account/start", ApprovalHarness.Json("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await h.Requester("rita").PostAsync($"/api/catalog/requests/{id}/tasks/account/start", ApprovalHarness.Json("{}"))).StatusCode);

        // An agent cancels it (a requester may cancel only before work starts, and fulfilment starts at once).
        var cancel = await h.H.Agent.PostAsync($"/api/tickets/{id}/actions/cancel", ApprovalHarness.Json("""{"reason":"The starter declined the offer."}"""));
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        await h.H.IdleAsync();

        Assert.Equal(new Dictionary<string, string> { ["account"] = "Cancelled", ["laptop"] = "Cancelled", ["phone"] = "Cancelled", ["handover"] = "Cancelled" }, States(await TicketAsync(h, id)));
        Assert.Empty((await h.H.Agent.GetFromJsonAsync<JsonElement>("/api/catalog/tasks")).GetProperty("items").EnumerateArray());
        Assert.Equal(4, (await h.H.Agent.GetFromJsonAsync<JsonElement>("/api/catalog/tasks?state=Cancelled")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task An_items_approval_policy_holds_the_request_and_its_tasks_are_created_only_once_approved()
    {
        await using var h = await StartAsync(NewStarter.Replace("\"category\":\"hardware\",", "\"category\":\"hardware\",\"approvalPolicy\":\"manager\",", StringComparison.Ordinal));
        var id = (await h.OrderAsync(h.Requester("rita"), "new-starter", """{"variables":{"phone":"no"}}""")).GetProperty("id").GetString()!;

        var held = await TicketAsync(h, id);
        Assert.Equal(("OnHold", "AwaitingApproval"), (held.GetProperty("state").GetString(), held.GetProperty("holdReason").GetString()));
        Assert.Empty(held.GetProperty("fulfilment").GetProperty("tasks").EnumerateArray());
        Assert.Empty((await h.H.Agent.GetFromJsonAsync<JsonElement>("/api/catalog/tasks")).GetProperty("items").EnumerateArray());

        var approvalId = (await h.H.Agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{id}/approvals")).GetProperty("approvals")[0].GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await h.H.DecideAsync("mona", approvalId, "Approve", "Welcome aboard.")).StatusCode);
        await h.H.IdleAsync();

        var approved = await TicketAsync(h, id);
        Assert.Equal("InProgress", approved.GetProperty("state").GetString());
        Assert.Equal("Open", States(approved)["account"]);
        Assert.Equal(2, (await h.H.Agent.GetFromJsonAsync<JsonElement>("/api/catalog/tasks")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task The_delivery_target_of_the_item_is_the_resolution_target_of_the_requests_SLA()
    {
        await using var h = await StartAsync(NewStarter.Replace("\"category\":\"hardware\",", "\"category\":\"hardware\",\"deliveryTargetMinutes\":120,", StringComparison.Ordinal));
        var days = string.Join(",", Enum.GetNames<DayOfWeek>().Select(d => $"\"{d.ToLowerInvariant()}\":[\"00:00-24:00\"]"));
        Assert.Equal(HttpStatusCode.Created, (await h.Admin.PutAsync("/api/manage/sla/calendars/24x7", ApprovalHarness.Json($$$"""{"name":"24x7","timeZone":"Etc/UTC","weeklyHours":{{{{days}}}}}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await h.Admin.PutAsync("/api/manage/sla/policies/requests", ApprovalHarness.Json("""{"name":"Requests","calendarId":"24x7","appliesTo":{"types":["ServiceRequest"]},"resolutionMinutes":{"1":600,"2":600,"3":600,"4":600}}"""))).StatusCode);

        var id = (await h.OrderAsync(h.Requester("rita"), "new-starter", """{"variables":{"phone":"no"}}""")).GetProperty("id").GetString()!;

        var clock = (await h.H.Agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{id}/sla")).GetProperty("clocks").EnumerateArray().Single(c => c.GetProperty("key").GetString() == "resolution");
        Assert.Equal("PT2H", clock.GetProperty("target").GetString());
    }
}
