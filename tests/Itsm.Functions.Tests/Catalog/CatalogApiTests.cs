using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Approvals;
using Microsoft.AspNetCore.TestHost;

namespace Itsm.Functions.Tests.Catalog;

/// <summary>
/// The service catalogue through the standalone app: admins keep versioned items, requesters see and order what their
/// roles and groups allow, an order is validated variable by variable and becomes a service request that keeps the
/// version it was ordered from; nothing crosses tenants.
/// </summary>
public class CatalogApiTests
{
    public const string Laptop = """
        {"name":"Laptop","category":"hardware","description":"A standard laptop.","deliveryTargetMinutes":120,
         "variables":[
           {"name":"model","label":"Model","type":"Choice","required":true,"choices":[{"value":"std","label":"Standard"},{"value":"pro","label":"Developer"}]},
           {"name":"justification","label":"Why a developer laptop","type":"MultiLineText","visibleWhen":{"variable":"model","values":["pro"]},"requiredWhen":{"variable":"model","values":["pro"]}},
           {"name":"count","label":"How many","type":"Number","integer":true,"min":1,"max":3,"default":1},
           {"name":"costCentre","label":"Cost centre","type":"Text","pattern":"CC-[0-9]{4}","patternMessage":"Use CC- and four digits."},
           {"name":"server","label":"Server","type":"CiReference"}]}
        """;

    public static async Task<CatalogHarness> StartAsync(string approvalSettings = """{"policies":[]}""")
    {
        var h = new CatalogHarness(await ApprovalHarness.StartAsync(approvalSettings));
        await h.PutCategoryAsync("hardware", """{"name":"Hardware","order":1}""");
        return h;
    }

    [Fact]
    public async Task An_order_with_valid_answers_raises_a_service_request_carrying_the_item_its_version_and_the_answers()
    {
        await using var h = await StartAsync();
        await h.PutItemAsync("laptop", Laptop);

        var ordered = await h.Requester("rita").PostAsync("/api/catalog/items/laptop/orders", ApprovalHarness.Json("""{"variables":{"model":"pro","justification":"Builds the mobile app.","costCentre":"CC-1234"},"description":"For Ana, starting Monday."}"""));

        Assert.Equal(HttpStatusCode.Created, ordered.StatusCode);
        var request = await ordered.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("ServiceRequest", "Laptop", "hardware"), (request.GetProperty("type").GetString(), request.GetProperty("title").GetString(), request.GetProperty("category").GetString()));
        var catalog = request.GetProperty("catalog");
        Assert.Equal(("laptop", 1), (catalog.GetProperty("itemId").GetString(), catalog.GetProperty("version").GetInt32()));
        var answers = catalog.GetProperty("variables");
        Assert.Equal(("pro", 1, "CC-1234"), (answers.GetProperty("model").GetString(), answers.GetProperty("count").GetInt32(), answers.GetProperty("costCentre").GetString()));
        Assert.Contains("Model: Developer", request.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("rita", request.GetProperty("requester").GetProperty("id").GetString());

        // The requester finds it among their own tickets.
        var id = request.GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await h.Requester("rita").GetAsync($"/api/tickets/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await h.Requester("olga").GetAsync($"/api/tickets/{id}")).StatusCode);
    }

    [Fact]
    public async Task An_order_with_bad_answers_names_each_failing_variable_and_raises_nothing()
    {
        await using var h = await StartAsync();
        await h.PutItemAsync("laptop", Laptop);

        var refused = await h.Requester("rita").PostAsync("/api/catalog/items/laptop/orders", ApprovalHarness.Json("""{"variables":{"model":"pro","count":9,"costCentre":"12","server":"no-such-ci","colour":"red"}}"""));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var errors = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal(
            ["variables.colour", "variables.costCentre", "variables.count", "variables.justification", "variables.server"],
            errors.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("Use CC- and four digits.", errors.GetProperty("variables.costCentre")[0].GetString());
        Assert.Equal("is required when model is pro.", errors.GetProperty("variables.justification")[0].GetString());
        Assert.Empty((await h.H.Agent.GetFromJsonAsync<JsonElement>("/api/tickets?type=ServiceRequest")).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Admins_edit_items_as_new_versions_under_ETags_and_a_request_keeps_the_version_it_was_ordered_from()
    {
        await using var h = await StartAsync();
        await h.PutItemAsync("laptop", Laptop);
        var first = (await (await h.Requester("rita").PostAsync("/api/catalog/items/laptop/orders", ApprovalHarness.Json("""{"variables":{"model":"std"}}"""))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var changed = Laptop.Replace("\"max\":3", "\"max\":5", StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.PreconditionRequired, (await h.Admin.PutAsync("/api/catalog/items/laptop", ApprovalHarness.Json(changed))).StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await h.PutItemRawAsync("laptop", changed, "\"7\"")).StatusCode);
        var read = await h.Admin.GetAsync("/api/catalog/items/laptop");
        Assert.Equal("\"1\"", read.Headers.ETag?.Tag);
        var saved = await h.PutItemRawAsync("laptop", changed, read.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        Assert.Equal(("\"2\"", 2), (saved.Headers.ETag?.Tag, (await saved.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32()));

        var second = await h.Requester("rita").PostAsync("/api/catalog/items/laptop/orders", ApprovalHarness.Json("""{"variables":{"model":"std","count":5}}"""));
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(2, (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("catalog").GetProperty("version").GetInt32());
        Assert.Equal(1, (await h.H.Agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{first}")).GetProperty("catalog").GetProperty("version").GetInt32());

        var old = await h.H.Agent.GetFromJsonAsync<JsonElement>("/api/catalog/items/laptop?version=1");
        Assert.Equal(3, old.GetProperty("variables")[2].GetProperty("max").GetInt32());
        Assert.Equal(HttpStatusCode.Forbidden, (await h.Requester("rita").GetAsync("/api/catalog/items/laptop?version=1")).StatusCode);
        var history = (await h.Admin.GetFromJsonAsync<JsonElement>("/api/catalog/items/laptop/history")).GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal([("updated", 2), ("created", 1)], history.Select(e => (e.GetProperty("action").GetString(), e.GetProperty("version").GetInt32())));
        Assert.Contains(history[0].GetProperty("changes").EnumerateArray(), c => c.GetProperty("field").GetString() == "variables");
    }

    [Fact]
    public async Task A_retried_order_with_the_same_Idempotency_Key_raises_one_request_and_two_admins_cannot_both_save_the_next_version()
    {
        await using var h = await StartAsync();
        await h.PutItemAsync("laptop", Laptop);

        async Task<HttpResponseMessage> OrderOnceAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/catalog/items/laptop/orders") { Content = ApprovalHarness.Json("""{"variables":{"model":"std"}}""") };
            request.Headers.Add("Idempotency-Key", "order-7f3a");
            return await h.Requester("rita").SendAsync(request);
        }

        var first = await OrderOnceAsync();
        var retry = await OrderOnceAsync();
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(
            (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString(),
            (await retry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        Assert.Single((await h.H.Agent.GetFromJsonAsync<JsonElement>("/api/tickets?type=ServiceRequest")).GetProperty("items").EnumerateArray());

        // Both read version 1; whoever saves second is told to read again, and version 2 is the first one's.
        var saves = await Task.WhenAll(
            h.PutItemRawAsync("laptop", Laptop.Replace("A standard laptop.", "First.", StringComparison.Ordinal), "\"1\""),
            h.PutItemRawAsync("laptop", Laptop.Replace("A standard laptop.", "Second.", StringComparison.Ordinal), "\"1\""));
        Assert.Single(saves, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Single(saves, r => r.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.PreconditionFailed);
        var current = await h.Admin.GetFromJsonAsync<JsonElement>("/api/catalog/items/laptop");
        Assert.Equal(2, current.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task A_bad_item_definition_is_refused_with_each_field_and_only_admins_maintain_the_catalogue()
    {
        await using var h = await StartAsync();

        var bad = await h.Admin.PutAsync("/api/catalog/items/laptop", ApprovalHarness.Json("""{"name":"Laptop","category":"nope","approvalPolicy":"none","variables":[{"name":"x","label":"X","type":"Number","min":5,"max":1}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("variables[0].min", out _));
        var unknownCategory = await h.Admin.PutAsync("/api/catalog/items/laptop", ApprovalHarness.Json("""{"name":"Laptop","category":"nope"}"""));
        Assert.True((await unknownCategory.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("category", out _));
        var unknownPolicy = await h.Admin.PutAsync("/api/catalog/items/laptop", ApprovalHarness.Json("""{"name":"Laptop","category":"hardware","approvalPolicy":"none"}"""));
        Assert.True((await unknownPolicy.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("approvalPolicy", out _));

        Assert.Equal(HttpStatusCode.Forbidden, (await h.H.Agent.PutAsync("/api/catalog/items/laptop", ApprovalHarness.Json(Laptop))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await h.Requester("rita").PutAsync("/api/catalog/items/laptop", ApprovalHarness.Json(Laptop))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await h.Requester("rita").PutAsync("/api/catalog/categories/x", ApprovalHarness.Json("""{"name":"X"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await h.Requester("rita").GetAsync("/api/catalog/items/laptop/history")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await h.H.App.Client.GetAsync("/api/catalog/items")).StatusCode);
    }

    [Fact]
    public async Task Requesters_see_and_order_only_the_items_their_roles_or_groups_allow_and_retired_items_disappear()
    {
        await using var h = await StartAsync();
        await h.PutItemAsync("laptop", Laptop);
        await h.PutItemAsync("trading-terminal", """{"name":"Trading terminal","category":"hardware","audience":{"groups":["grp-traders"]}}""");
        await h.PutItemAsync("diagnostic-kit", """{"name":"Diagnostic kit","category":"hardware","audience":{"roles":["Itsm.Agent"]}}""");
        await h.PutItemAsync("fax", """{"name":"Fax machine","category":"hardware","active":false}""");

        Assert.Equal(["laptop"], await h.ItemIdsAsync(h.Requester("rita")));
        Assert.Equal(["laptop", "trading-terminal"], await h.ItemIdsAsync(h.Requester("tom", groups: ["grp-traders"])));
        Assert.Equal(["diagnostic-kit", "laptop"], await h.ItemIdsAsync(h.H.Agent));
        Assert.Equal(["diagnostic-kit", "fax", "laptop", "trading-terminal"], await h.ItemIdsAsync(h.Admin));
        Assert.Equal(2, (await h.Requester("tom", groups: ["grp-traders"]).GetFromJsonAsync<JsonElement>("/api/catalog/categories")).GetProperty("items")[0].GetProperty("itemCount").GetInt32());

        Assert.Equal(HttpStatusCode.NotFound, (await h.Requester("rita").GetAsync("/api/catalog/items/trading-terminal")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await h.Requester("rita").PostAsync("/api/catalog/items/trading-terminal/orders", ApprovalHarness.Json("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await h.Requester("tom", groups: ["grp-traders"]).PostAsync("/api/catalog/items/trading-terminal/orders", ApprovalHarness.Json("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await h.Requester("rita").PostAsync("/api/catalog/items/fax/orders", ApprovalHarness.Json("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await h.Admin.PostAsync("/api/catalog/items/fax/orders", ApprovalHarness.Json("{}"))).StatusCode);

        // Requesters get what a form needs, not the audience or the fulfilment plan.
        var item = await h.Requester("rita").GetFromJsonAsync<JsonElement>("/api/catalog/items/laptop");
        Assert.Equal(5, item.GetProperty("variables").GetArrayLength());
        Assert.False(item.TryGetProperty("fulfilment", out _) || item.TryGetProperty("audience", out _));
    }

    [Fact]
    public async Task Another_tenant_sees_nothing_of_the_catalogue_and_cannot_order_from_it()
    {
        await using var h = await StartAsync();
        await h.PutItemAsync("laptop", Laptop);
        var outsider = h.H.App.As("fred", "fabrikam");
        var outsideAdmin = h.H.App.As("fiona", "fabrikam", AppRoles.Admin);

        Assert.Empty((await outsider.GetFromJsonAsync<JsonElement>("/api/catalog/items")).GetProperty("items").EnumerateArray());
        Assert.Empty((await outsideAdmin.GetFromJsonAsync<JsonElement>("/api/catalog/items")).GetProperty("items").EnumerateArray());
        Assert.Empty((await outsideAdmin.GetFromJsonAsync<JsonElement>("/api/catalog/categories")).GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await outsider.GetAsync("/api/catalog/items/laptop")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await outsider.PostAsync("/api/catalog/items/laptop/orders", ApprovalHarness.Json("""{"variables":{"model":"std"}}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await outsideAdmin.GetAsync("/api/catalog/items/laptop/history")).StatusCode);

        // Its own item of the same id is its own: version 1, not contoso's next.
        await outsideAdmin.PutAsync("/api/catalog/categories/hardware", ApprovalHarness.Json("""{"name":"Kit"}"""));
        var own = await outsideAdmin.PutAsync("/api/catalog/items/laptop", ApprovalHarness.Json("""{"name":"Fabrikam laptop","category":"hardware"}"""));
        Assert.Equal(HttpStatusCode.Created, own.StatusCode);
        Assert.Equal("Laptop", (await h.Admin.GetFromJsonAsync<JsonElement>("/api/catalog/items/laptop")).GetProperty("name").GetString());
    }
}

/// <summary>An app with the catalogue's admin, agents and requesters (with Entra groups in their tokens when given).</summary>
public sealed class CatalogHarness(ApprovalHarness h) : IAsyncDisposable
{
    public ApprovalHarness H { get; } = h;

    public HttpClient Admin => H.App.As("root", "contoso", AppRoles.Admin);

    public HttpClient Requester(string id, string tenant = "contoso", string[]? groups = null)
    {
        var token = DevTokens.Mint(AuthOptions.DefaultDevKeyPath(H.App.DatabasePath), id, [], tenant, name: id, now: H.App.Clock.GetUtcNow(), groups: groups);
        var client = H.App.App.GetTestClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async Task PutCategoryAsync(string id, string json)
    {
        var response = await Admin.PutAsync($"/api/catalog/categories/{id}", ApprovalHarness.Json(json));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task PutItemAsync(string id, string json)
    {
        var response = await Admin.PutAsync($"/api/catalog/items/{id}", ApprovalHarness.Json(json));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    public async Task<HttpResponseMessage> PutItemRawAsync(string id, string json, string ifMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/catalog/items/{id}") { Content = ApprovalHarness.Json(json) };
        request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return await Admin.SendAsync(request);
    }

    public async Task<string[]> ItemIdsAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/catalog/items")).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!).Order(StringComparer.Ordinal).ToArray();

    public async Task<JsonElement> OrderAsync(HttpClient client, string item, string body = "{}")
    {
        var response = await client.PostAsync($"/api/catalog/items/{item}/orders", ApprovalHarness.Json(body));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        await H.IdleAsync();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public ValueTask DisposeAsync() => H.DisposeAsync();
}
