using System.Net;
using System.Text;
using Itsm.Durable.Client;

namespace Itsm.Functions.Tests.Durable;

/// <summary>The client over the extension's HTTP management API, against a fake of that API.</summary>
public class DurableHttpManagementClientTests
{
    private const string BindingJson = """
        {"taskHubName":"ItsmTaskHub","connectionName":null,"creationUrls":null,"managementUrls":null,"baseUrl":null,
         "requiredQueryStringParameters":"code=SYSKEY","rpcBaseUrl":"http://localhost:4001",
         "httpBaseUrl":"https://itsm.example/runtime/webhooks/durabletask"}
        """;

    private readonly FakeManagementApi _api = new();

    private DurableHttpManagementClient CreateClient() =>
        new(new HttpClient(_api), DurableClientBindingValue.Parse(BindingJson, websiteHostName: null));

    [Fact]
    public async Task Start_posts_the_input_to_the_orchestrator_route_with_hub_and_system_key()
    {
        _api.Respond(HttpMethod.Get, "/runtime/webhooks/durabletask/instances/chg-42", HttpStatusCode.NotFound);
        _api.Respond(HttpMethod.Post, "/runtime/webhooks/durabletask/orchestrators/ChangeApproval/chg-42", HttpStatusCode.Accepted);

        var result = await CreateClient().StartNewAsync("ChangeApproval", "chg-42", new { change = "CHG0001001" });

        Assert.True(result.Created);
        var post = _api.Requests.Single(r => r.Method == HttpMethod.Post);
        Assert.Equal("taskHub=ItsmTaskHub&code=SYSKEY", post.Query);
        Assert.Equal("application/json", post.ContentType);
        Assert.Equal("{\"change\":\"CHG0001001\"}", post.Body);
    }

    [Fact]
    public async Task Starting_an_existing_instance_again_does_not_post_a_second_start()
    {
        _api.Respond(HttpMethod.Get, "/runtime/webhooks/durabletask/instances/chg-42", HttpStatusCode.Accepted,
            """{"name":"ChangeApproval","instanceId":"chg-42","runtimeStatus":"Running","input":null,"customStatus":null,"output":null,"createdTime":"2026-03-02T08:00:00Z","lastUpdatedTime":"2026-03-02T08:00:05Z"}""");

        var result = await CreateClient().StartNewAsync("ChangeApproval", "chg-42");

        Assert.False(result.Created);
        Assert.DoesNotContain(_api.Requests, r => r.Method == HttpMethod.Post);
    }

    [Theory]
    [InlineData(HttpStatusCode.Accepted, DurableClientOutcome.Accepted)]
    [InlineData(HttpStatusCode.NotFound, DurableClientOutcome.NotFound)]
    [InlineData(HttpStatusCode.Gone, DurableClientOutcome.InstanceCompleted)]
    public async Task Raise_event_maps_the_extensions_answers(HttpStatusCode answer, DurableClientOutcome expected)
    {
        _api.Respond(HttpMethod.Post, "/runtime/webhooks/durabletask/instances/chg-42/raiseEvent/Approval", answer);

        var outcome = await CreateClient().RaiseEventAsync("chg-42", "Approval", true);

        Assert.Equal(expected, outcome);
        Assert.Equal("true", _api.Requests.Single().Body);
        Assert.Equal("application/json", _api.Requests.Single().ContentType);
    }

    [Fact]
    public async Task Status_is_read_from_the_status_payload()
    {
        _api.Respond(HttpMethod.Get, "/runtime/webhooks/durabletask/instances/chg-42", HttpStatusCode.OK,
            """{"name":"ChangeApproval","instanceId":"chg-42","runtimeStatus":"Completed","input":"order-42","customStatus":{"level":2},"output":{"approved":true},"createdTime":"2026-03-02T08:00:00Z","lastUpdatedTime":"2026-03-02T09:30:00Z"}""");

        var status = await CreateClient().GetStatusAsync("chg-42");

        Assert.NotNull(status);
        Assert.Equal("Completed", status.RuntimeStatus);
        Assert.True(status.IsTerminal);
        Assert.Equal("{\"approved\":true}", status.OutputJson);
        Assert.Equal("{\"level\":2}", status.CustomStatusJson);
        Assert.Equal(new DateTimeOffset(2026, 3, 2, 9, 30, 0, TimeSpan.Zero), status.LastUpdatedAt);
        Assert.Equal("showInput=true&taskHub=ItsmTaskHub&code=SYSKEY", _api.Requests.Single().Query);
    }

    [Fact]
    public async Task Terminate_and_purge_use_the_documented_routes()
    {
        _api.Respond(HttpMethod.Post, "/runtime/webhooks/durabletask/instances/chg-42/terminate", HttpStatusCode.Gone);
        _api.Respond(HttpMethod.Delete, "/runtime/webhooks/durabletask/instances/chg-42", HttpStatusCode.OK, """{"instancesDeleted":1}""");

        Assert.Equal(DurableClientOutcome.InstanceCompleted, await CreateClient().TerminateAsync("chg-42", "withdrawn by requester"));
        Assert.True(await CreateClient().PurgeAsync("chg-42"));
        Assert.StartsWith("reason=withdrawn%20by%20requester&", _api.Requests[0].Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unexpected_answer_is_an_error_naming_the_operation()
    {
        _api.Respond(HttpMethod.Post, "/runtime/webhooks/durabletask/instances/chg-42/raiseEvent/Approval", HttpStatusCode.BadRequest, "not json");

        var error = await Assert.ThrowsAsync<DurableClientException>(() => CreateClient().RaiseEventAsync("chg-42", "Approval", true));

        Assert.Contains("raise event", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("@entity")]
    [InlineData("a/b")]
    [InlineData("a?b")]
    public async Task Invalid_instance_ids_are_refused_before_any_call(string instanceId)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => CreateClient().GetStatusAsync(instanceId));
        Assert.Empty(_api.Requests);
    }

    [Theory]
    [InlineData("itsm-app.azurewebsites.net", "https://itsm-app.azurewebsites.net/runtime/webhooks/durabletask/")]
    [InlineData("localhost:7071", "http://localhost:7071/runtime/webhooks/durabletask/")]
    public void Without_httpBaseUrl_the_base_is_built_from_the_site_host_name_as_the_host_does(string host, string expected)
    {
        var value = DurableClientBindingValue.Parse("""{"taskHubName":"ItsmTaskHub","requiredQueryStringParameters":"code=K","rpcBaseUrl":"http://localhost:4001"}""", host);

        Assert.Equal(expected, value.HttpBaseUrl.ToString());
    }

    private sealed class FakeManagementApi : HttpMessageHandler
    {
        private readonly Dictionary<(HttpMethod, string), (HttpStatusCode, string)> _answers = [];

        public List<(HttpMethod Method, string Path, string Query, string? ContentType, string? Body)> Requests { get; } = [];

        public void Respond(HttpMethod method, string path, HttpStatusCode status, string body = "") => _answers[(method, path)] = (status, body);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Assert.Equal("itsm.example", request.RequestUri!.Host);
            var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
            Requests.Add((request.Method, request.RequestUri.AbsolutePath, request.RequestUri.Query.TrimStart('?'), request.Content?.Headers.ContentType?.MediaType, body));
            var (status, answer) = _answers.TryGetValue((request.Method, request.RequestUri.AbsolutePath), out var a) ? a : (HttpStatusCode.InternalServerError, "unexpected call");
            return new HttpResponseMessage(status) { Content = new StringContent(answer, Encoding.UTF8, "application/json") };
        }
    }
}
