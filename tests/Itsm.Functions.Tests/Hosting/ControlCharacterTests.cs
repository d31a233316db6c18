using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Hosting;

/// <summary>Text fields refuse C0 control characters, naming the field; multi-line fields keep tabs and line breaks.</summary>
public class ControlCharacterTests
{
    [Theory]
    [InlineData("/api/tickets", """{"type":"Incident","title":"\u0000"}""", "title")]
    [InlineData("/api/tickets", """{"type":"Incident","title":"Printer\nfire"}""", "title")]
    [InlineData("/api/tickets", """{"type":"Incident","title":"Printer","category":"Hard\u0007ware"}""", "category")]
    [InlineData("/api/tickets", """{"type":"Incident","title":"Printer","tags":["ok","b\u001bad"]}""", "tags")]
    [InlineData("/api/tickets", """{"type":"Incident","title":"Printer","description":"Line one\u0000"}""", "description")]
    [InlineData("/api/cis", """{"class":"server","name":"\u0000"}""", "name")]
    [InlineData("/api/cis", """{"class":"server","name":"esx-1","attributes":{"operatingSystem":"ESXi\u0001"}}""", "attributes.operatingSystem")]
    public async Task A_control_character_is_refused_with_400_naming_the_field_and_nothing_is_stored(string route, string body, string field)
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("sam", "contoso", AppRoles.Agent);

        var response = await agent.PostAsync(route, Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("control characters", problem.GetProperty("errors").GetProperty(field)[0].GetString(), StringComparison.Ordinal);
        var list = await agent.GetFromJsonAsync<JsonElement>(route);
        Assert.Equal(0, list.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Multi_line_fields_keep_tabs_and_line_breaks_and_refuse_other_control_characters()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("sam", "contoso", AppRoles.Agent);

        var created = await agent.PostAsync("/api/tickets", Json("""{"type":"Incident","title":"VPN drops","description":"Steps:\r\n\t1. connect\n\t2. wait"}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var ticket = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Steps:\r\n\t1. connect\n\t2. wait", ticket.GetProperty("description").GetString());
        var id = ticket.GetProperty("id").GetString();

        var comment = await agent.PostAsync($"/api/tickets/{id}/actions/comment", Json("""{"body":"Rebooted.\nStill down \u0008"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, comment.StatusCode);
        Assert.Contains("other than tab", (await comment.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("body")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsync($"/api/tickets/{id}/actions/comment", Json("""{"body":"Rebooted.\nStill down."}"""))).StatusCode);
    }

    [Fact]
    public async Task A_csv_row_with_a_control_character_in_a_name_is_rejected_and_the_others_imported()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("sam", "contoso", AppRoles.Agent);
        var csv = "externalKey,class,name\nk-1,server,good-one\nk-2,server,\"bad\u0000name\"\n";

        var started = await agent.PostAsync("/api/cmdb/imports?kind=cis", new StringContent(csv, Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        await app.WaitForDurableIdleAsync();
        var job = await agent.GetFromJsonAsync<JsonElement>(started.Headers.Location);

        Assert.Equal((1, 1), (job.GetProperty("created").GetInt32(), job.GetProperty("rejected").GetInt32()));
        var error = Assert.Single(job.GetProperty("errors").EnumerateArray());
        Assert.Equal("name", error.GetProperty("column").GetString());
        Assert.Contains("control characters", error.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
