using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Cmdb;

/// <summary>The CMDB API end to end through the standalone host: CIs, relationships, impact, tickets, authorisation, tenants.</summary>
public class CmdbApiTests
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    private static HttpClient Agent(StandaloneApp app, string tenant = "contoso") => app.As("sam", tenant, AppRoles.Agent);

    private static async Task<string> CreateAsync(HttpClient client, string json)
    {
        var response = await client.PostAsync("/api/cis", Json(json));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await BodyAsync(response)).GetProperty("id").GetString()!;
    }

    private static async Task RelateAsync(HttpClient client, string source, string type, string target)
    {
        var response = await client.PostAsync($"/api/cis/{source}/relationships", Json($$"""{"type":"{{type}}","targetId":"{{target}}"}"""));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_agent_creates_reads_and_patches_a_ci_with_etags_and_an_audit_trail()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = Agent(app);

        var created = await agent.PostAsync("/api/cis", Json("""{"class":"server","name":"web-01","externalKey":"/subscriptions/1/vm/web-01","criticality":"High","supportGroup":"Infra","attributes":{"cpuCores":8}}"""));
        var ci = await BodyAsync(created);
        var id = ci.GetProperty("id").GetString()!;
        var etag = created.Headers.ETag!.Tag;
        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/cis/{id}") { Content = Json("""{"status":"Maintenance","attributes":{"memoryGb":64}}""") };
        patch.Headers.TryAddWithoutValidation("If-Match", etag);
        var patched = await agent.SendAsync(patch);
        var stale = new HttpRequestMessage(HttpMethod.Patch, $"/api/cis/{id}") { Content = Json("""{"status":"Retired"}""") };
        stale.Headers.TryAddWithoutValidation("If-Match", etag);
        var staleResponse = await agent.SendAsync(stale);
        var history = await BodyAsync(await agent.GetAsync($"/api/cis/{id}/history"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/api/cis/{id}", created.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var after = await BodyAsync(patched);
        Assert.Equal("Maintenance", after.GetProperty("status").GetString());
        Assert.Equal(8, after.GetProperty("attributes").GetProperty("cpuCores").GetInt32());
        Assert.Equal(64, after.GetProperty("attributes").GetProperty("memoryGb").GetInt32());
        Assert.Equal(HttpStatusCode.PreconditionFailed, staleResponse.StatusCode);
        Assert.Equal(["created", "updated"], history.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("action").GetString()));
        Assert.Contains(history.GetProperty("items")[1].GetProperty("changes").EnumerateArray(), c => c.GetProperty("field").GetString() == "status");
    }

    [Fact]
    public async Task Invalid_cis_get_every_field_error_and_nothing_is_stored()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = Agent(app);

        var response = await agent.PostAsync("/api/cis", Json("""{"class":"server","status":"Broken","attributes":{"cpuCores":"eight","colour":"red"},"extra":1}"""));
        var unknownClass = await agent.PostAsync("/api/cis", Json("""{"class":"toaster","name":"t"}"""));
        var list = await BodyAsync(await agent.GetAsync("/api/cis"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await BodyAsync(response)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("name", out _));
        Assert.True(errors.TryGetProperty("status", out _));
        Assert.True(errors.TryGetProperty("attributes.cpuCores", out _));
        Assert.True(errors.TryGetProperty("attributes.colour", out _));
        Assert.True(errors.TryGetProperty("extra", out _));
        Assert.Equal(HttpStatusCode.BadRequest, unknownClass.StatusCode);
        Assert.Equal(0, list.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task An_external_key_names_one_ci_only()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = Agent(app);
        await CreateAsync(agent, """{"class":"server","name":"a","externalKey":"k-1"}""");

        var second = await agent.PostAsync("/api/cis", Json("""{"class":"server","name":"b","externalKey":"k-1"}"""));
        var byKey = await BodyAsync(await agent.GetAsync("/api/cis?externalKey=k-1"));

        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal("a", Assert.Single(byKey.GetProperty("items").EnumerateArray()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task Requesters_cannot_read_or_change_the_cmdb_and_only_admins_define_classes()
    {
        await using var app = await StandaloneApp.StartAsync();
        var id = await CreateAsync(Agent(app), """{"class":"server","name":"web-01"}""");
        var ana = app.As("ana");

        var list = await ana.GetAsync("/api/cis");
        var read = await ana.GetAsync($"/api/cis/{id}");
        var create = await ana.PostAsync("/api/cis", Json("""{"class":"server","name":"x"}"""));
        var impact = await ana.GetAsync($"/api/cis/{id}/impact");
        var agentClass = await Agent(app).PutAsync("/api/cmdb/classes/printer", Json("""{"label":"Printer","attributes":[]}"""));
        var import = await ana.PostAsync("/api/cmdb/imports?kind=cis", new StringContent("externalKey,class,name\nk,server,x\n"));

        Assert.All([list, read, create, impact, agentClass, import], r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
    }

    [Fact]
    public async Task Another_tenant_sees_none_of_the_cis_and_cannot_relate_to_them()
    {
        await using var app = await StandaloneApp.StartAsync();
        var id = await CreateAsync(Agent(app), """{"class":"server","name":"web-01","externalKey":"shared-key"}""");
        var fabrikam = Agent(app, "fabrikam");
        var own = await CreateAsync(fabrikam, """{"class":"application","name":"app"}""");

        var read = await fabrikam.GetAsync($"/api/cis/{id}");
        var list = await BodyAsync(await fabrikam.GetAsync("/api/cis"));
        var relate = await fabrikam.PostAsync($"/api/cis/{own}/relationships", Json($$"""{"type":"RunsOn","targetId":"{{id}}"}"""));
        var sameKey = await fabrikam.PostAsync("/api/cis", Json("""{"class":"server","name":"theirs","externalKey":"shared-key"}"""));

        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        Assert.Equal(["app"], list.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, relate.StatusCode);
        Assert.Equal(HttpStatusCode.Created, sameKey.StatusCode);
    }

    [Fact]
    public async Task Relationships_refuse_duplicates_self_links_and_missing_targets_and_show_from_both_ends()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = Agent(app);
        var appCi = await CreateAsync(agent, """{"class":"application","name":"Payroll app"}""");
        var vm = await CreateAsync(agent, """{"class":"virtualMachine","name":"vm-7"}""");
        await RelateAsync(agent, appCi, "RunsOn", vm);

        var duplicate = await agent.PostAsync($"/api/cis/{appCi}/relationships", Json($$"""{"type":"RunsOn","targetId":"{{vm}}"}"""));
        var self = await agent.PostAsync($"/api/cis/{appCi}/relationships", Json($$"""{"type":"DependsOn","targetId":"{{appCi}}"}"""));
        var missing = await agent.PostAsync($"/api/cis/{appCi}/relationships", Json("""{"type":"DependsOn","targetId":"nope"}"""));
        var badType = await agent.PostAsync($"/api/cis/{appCi}/relationships", Json($$"""{"type":"LovesOf","targetId":"{{vm}}"}"""));
        var fromVm = await BodyAsync(await agent.GetAsync($"/api/cis/{vm}/relationships"));
        var fromApp = await BodyAsync(await agent.GetAsync($"/api/cis/{appCi}/relationships?direction=out"));

        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, self.StatusCode);
        Assert.Contains("itself", (await BodyAsync(self)).GetProperty("errors").GetProperty("targetId")[0].GetString());
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badType.StatusCode);
        var incoming = Assert.Single(fromVm.GetProperty("items").EnumerateArray());
        Assert.Equal("Runs", incoming.GetProperty("label").GetString());
        Assert.Equal(appCi, incoming.GetProperty("otherId").GetString());
        Assert.Single(fromApp.GetProperty("items").EnumerateArray());

        var relationshipId = incoming.GetProperty("id").GetString();
        var removed = await agent.DeleteAsync($"/api/cis/{appCi}/relationships/{relationshipId}");
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(0, (await BodyAsync(await agent.GetAsync($"/api/cis/{vm}/relationships"))).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Impact_upstream_names_the_affected_business_service_with_a_path_and_honours_depth_and_types()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = Agent(app);
        var service = await CreateAsync(agent, """{"class":"businessService","name":"Payroll","criticality":"Critical"}""");
        var appCi = await CreateAsync(agent, """{"class":"application","name":"Payroll app"}""");
        var vm = await CreateAsync(agent, """{"class":"virtualMachine","name":"vm-7"}""");
        var host = await CreateAsync(agent, """{"class":"server","name":"esx-1"}""");
        await RelateAsync(agent, service, "DependsOn", appCi);
        await RelateAsync(agent, appCi, "RunsOn", vm);
        await RelateAsync(agent, vm, "HostedOn", host);
        await RelateAsync(agent, host, "DependsOn", service); // a cycle in the data

        var up = await BodyAsync(await agent.GetAsync($"/api/cis/{host}/impact?direction=up&depth=5"));
        var shallow = await BodyAsync(await agent.GetAsync($"/api/cis/{host}/impact?direction=up&depth=1"));
        var onlyHosting = await BodyAsync(await agent.GetAsync($"/api/cis/{host}/impact?direction=up&depth=5&types=HostedOn"));
        var down = await BodyAsync(await agent.GetAsync($"/api/cis/{appCi}/impact?direction=down&depth=5"));
        var bad = await agent.GetAsync($"/api/cis/{host}/impact?direction=sideways&depth=99&types=Nope");

        var affected = Assert.Single(up.GetProperty("businessServices").EnumerateArray());
        Assert.Equal("Payroll", affected.GetProperty("name").GetString());
        Assert.Equal(3, affected.GetProperty("depth").GetInt32());
        Assert.Equal("esx-1 (server) Hosts vm-7 (virtualMachine) Runs Payroll app (application) UsedBy Payroll (businessService)", affected.GetProperty("explanation").GetString());
        Assert.Equal(3, up.GetProperty("nodes").GetArrayLength());
        Assert.Equal(["vm-7"], shallow.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("name").GetString()));
        Assert.Equal(["vm-7"], onlyHosting.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("name").GetString()));
        Assert.Equal(["vm-7", "esx-1", "Payroll"], down.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("name").GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await BodyAsync(bad)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("direction", out _) && errors.TryGetProperty("depth", out _) && errors.TryGetProperty("types", out _));
    }

    [Fact]
    public async Task A_cis_open_tickets_and_a_tickets_affected_services_come_from_the_ticket_configuration_items()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = Agent(app);
        var service = await CreateAsync(agent, """{"class":"businessService","name":"Payroll"}""");
        var db = await CreateAsync(agent, """{"class":"database","name":"payroll-db","attributes":{"engine":"postgresql"}}""");
        await RelateAsync(agent, service, "DependsOn", db);
        var open = await BodyAsync(await agent.PostAsync("/api/tickets", Json($$"""{"type":"Incident","title":"DB slow","configurationItems":["{{db}}"]}""")));
        var change = await BodyAsync(await agent.PostAsync("/api/tickets", Json($$"""{"type":"Change","title":"Patch DB","configurationItems":["{{db}}"]}""")));
        var other = await agent.PostAsync("/api/tickets", Json("""{"type":"Incident","title":"Unrelated"}"""));
        Assert.Equal(HttpStatusCode.Created, other.StatusCode);

        var tickets = await BodyAsync(await agent.GetAsync($"/api/cis/{db}/tickets"));
        var affected = await BodyAsync(await agent.GetAsync($"/api/tickets/{open.GetProperty("id").GetString()}/affected-services"));
        var services = await app.Services.GetRequiredService<Itsm.Functions.Cmdb.CmdbService>().AffectedServicesAsync("contoso", [db], CancellationToken.None);

        Assert.Equal(
            new[] { open.GetProperty("number").GetString(), change.GetProperty("number").GetString() }.Order(),
            tickets.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("number").GetString()).Order());
        Assert.Equal(["Payroll"], affected.GetProperty("affectedServices").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.Equal(["Payroll"], services.Select(s => s.Name));
    }

    [Fact]
    public async Task The_list_filters_by_class_and_status_and_pages_with_a_continuation_token()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = Agent(app);
        for (var i = 0; i < 5; i++)
        {
            await CreateAsync(agent, $$"""{"class":"server","name":"srv-{{i}}","status":"{{(i == 4 ? "Retired" : "Operational")}}"}""");
        }

        await CreateAsync(agent, """{"class":"application","name":"app"}""");

        var first = await BodyAsync(await agent.GetAsync("/api/cis?class=server&status=Operational&pageSize=3"));
        var token = first.GetProperty("continuationToken").GetString();
        var second = await BodyAsync(await agent.GetAsync($"/api/cis?class=server&status=Operational&pageSize=3&continuationToken={Uri.EscapeDataString(token!)}"));
        var bad = await agent.GetAsync("/api/cis?status=Gone&colour=red");

        Assert.Equal(["srv-0", "srv-1", "srv-2"], first.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
        Assert.Equal(["srv-3"], second.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task An_admin_defines_a_tenant_class_whose_attributes_are_then_validated()
    {
        await using var app = await StandaloneApp.StartAsync();
        var admin = app.As("root", "contoso", AppRoles.Admin);

        var put = await admin.PutAsync("/api/cmdb/classes/printer", Json("""{"label":"Printer","attributes":[{"name":"floor","type":"Integer","required":true},{"name":"colour","type":"Choice","allowedValues":["mono","colour"]}]}"""));
        var redefine = await admin.PutAsync("/api/cmdb/classes/server", Json("""{"label":"Server","attributes":[]}"""));
        var bad = await admin.PostAsync("/api/cis", Json("""{"class":"printer","name":"p1","attributes":{"colour":"rainbow"}}"""));
        var good = await admin.PostAsync("/api/cis", Json("""{"class":"printer","name":"p1","attributes":{"floor":2,"colour":"mono"}}"""));
        var elsewhere = await app.As("x", "fabrikam", AppRoles.Agent).PostAsync("/api/cis", Json("""{"class":"printer","name":"p1","attributes":{"floor":2}}"""));
        var classes = await BodyAsync(await admin.GetAsync("/api/cmdb/classes"));

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, redefine.StatusCode);
        var errors = (await BodyAsync(bad)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("attributes.floor", out _) && errors.TryGetProperty("attributes.colour", out _));
        Assert.Equal(HttpStatusCode.Created, good.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, elsewhere.StatusCode);
        Assert.Contains(classes.GetProperty("items").EnumerateArray(), c => c.GetProperty("name").GetString() == "printer");
    }
}
