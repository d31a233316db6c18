using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Itsm.Functions.Notifications;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Graph;
using Microsoft.Kiota.Abstractions.Authentication;

namespace Itsm.Functions.Tests.Notifications;

/// <summary>
/// A small fake of the Graph endpoints the app uses (draft and send of mail, activity feed, messages, subscriptions), served by
/// an in-memory ASP.NET Core server. The real Graph SDK talks to it over HTTP; tests script throttling and read
/// what was sent.
/// </summary>
public sealed class FakeGraph : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<int> _throttles = new();
    private int _drafts;

    // The SDK writes some request members in PascalCase (sendMail's "Message"); Graph reads names case-insensitively.
    private static readonly JsonNodeOptions CaseInsensitive = new() { PropertyNameCaseInsensitive = true };

    private FakeGraph(WebApplication app) => _app = app;

    public ConcurrentQueue<(string Path, JsonObject Body)> Requests { get; } = new();

    public ConcurrentDictionary<string, JsonObject> Messages { get; } = new();

    /// <summary>Drafts created in the sender mailbox; <see cref="Mail"/> are those sent.</summary>
    public ConcurrentDictionary<string, JsonObject> Drafts { get; } = new();

    public ConcurrentQueue<JsonObject> Mail { get; } = new();

    private readonly TaskCompletionSource<JsonObject> _subscriptionCreated = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<JsonObject> SubscriptionCreated => _subscriptionCreated.Task;

    public ConcurrentDictionary<string, JsonObject> Subscriptions { get; } = new();

    /// <summary>The next sends (mail send, activity) answer 429 with these Retry-After seconds, one per entry.</summary>
    public void ThrottleNext(params int[] retryAfterSeconds)
    {
        foreach (var seconds in retryAfterSeconds)
        {
            _throttles.Enqueue(seconds);
        }
    }

    /// <summary>Users' managers in the fake directory (user id → manager's object id); others have none (404).</summary>
    public ConcurrentDictionary<string, string> Managers { get; } = new();

    /// <summary>Users whose manager is an organizational contact (user id → the contact's object id).</summary>
    public ConcurrentDictionary<string, string> ContactManagers { get; } = new();

    /// <summary>Groups in the fake directory (object id → member user ids); others are unknown (404). Pages hold two members.</summary>
    public ConcurrentDictionary<string, string[]> Groups { get; } = new();

    /// <summary>Each directory read, as path and query.</summary>
    public ConcurrentQueue<string> DirectoryReads { get; } = new();

    private int _unavailableDirectoryReads;

    /// <summary>The next directory reads answer 503.</summary>
    public void MakeDirectoryUnavailable(int reads) => _unavailableDirectoryReads = reads;

    /// <summary>Every directory read answers 403, as Graph does when the app's identity lacks the permission.</summary>
    public bool DirectoryNotGranted { get; set; }

    private static IResult NotGranted() =>
        Results.Text("""{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}""", "application/json", statusCode: 403);

    public IEnumerable<JsonObject> Sent(string pathSuffix) =>
        Requests.Where(r => r.Path.EndsWith(pathSuffix, StringComparison.OrdinalIgnoreCase)).Select(r => r.Body);

    /// <summary>Each request's path and query as the SDK put them on the wire (percent-escapes kept).</summary>
    public ConcurrentQueue<string> SentTargets { get; } = new();

    public GraphServiceClient CreateClient() =>
        GraphOptions.CreateClient(new AnonymousAuthenticationProvider(), "http://graph.test/v1.0", new Recording(SentTargets) { InnerHandler = _app.GetTestServer().CreateHandler() });

    private sealed class Recording(ConcurrentQueue<string> targets) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            targets.Enqueue(request.RequestUri!.PathAndQuery);
            return base.SendAsync(request, cancellationToken);
        }
    }

    public static async Task<FakeGraph> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        var app = builder.Build();
        var fake = new FakeGraph(app);
        app.MapPost("/v1.0/users/{user}/messages", (Delegate)((HttpContext http) => fake.CreateDraftAsync(http)));
        app.MapPost("/v1.0/users/{user}/messages/{id}/send", (Delegate)((HttpContext http) => fake.SendDraftAsync(http, (string)http.Request.RouteValues["id"]!)));
        app.MapPost("/v1.0/users/{user}/teamwork/sendActivityNotification", (Delegate)((HttpContext http) => fake.RecordAsync(http, 204, null)));
        app.MapGet("/v1.0/users/{user}/messages/{id}", (string id) =>
            fake.Messages.TryGetValue(id, out var message)
                ? Results.Text(message.ToJsonString(), "application/json")
                : Results.Text("""{"error":{"code":"ErrorItemNotFound","message":"Not found"}}""", "application/json", statusCode: 404));
        app.MapGet("/v1.0/users/{user}/manager", (string user, HttpContext http) =>
        {
            fake.DirectoryReads.Enqueue(http.Request.Path.Value + http.Request.QueryString.Value);
            if (fake.DirectoryNotGranted)
            {
                return NotGranted();
            }

            if (Interlocked.Decrement(ref fake._unavailableDirectoryReads) >= 0)
            {
                return Results.Text("""{"error":{"code":"serviceNotAvailable","message":"The service is temporarily unavailable."}}""", "application/json", statusCode: 503);
            }

            // As Graph answers: the manager as a directory object (a user or an organizational contact), or 404
            // Request_ResourceNotFound when there is none.
            var type = fake.Managers.TryGetValue(user, out var manager) ? "user" : fake.ContactManagers.TryGetValue(user, out manager) ? "orgContact" : null;
            return type is not null
                ? Results.Text($$"""{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#directoryObjects(id)/$entity","@odata.type":"#microsoft.graph.{{type}}","id":"{{manager}}"}""", "application/json")
                : Results.Text("""{"error":{"code":"Request_ResourceNotFound","message":"Resource 'manager' does not exist or one of its queried reference-property objects are not present."}}""", "application/json", statusCode: 404);
        });
        app.MapGet("/v1.0/groups/{group}/transitiveMembers/graph.user", (string group, int? skip, HttpContext http) =>
        {
            fake.DirectoryReads.Enqueue(http.Request.Path.Value + http.Request.QueryString.Value);
            if (fake.DirectoryNotGranted)
            {
                return NotGranted();
            }

            if (!fake.Groups.TryGetValue(group, out var members))
            {
                return Results.Text("""{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist or one of its queried reference-property objects are not present."}}""", "application/json", statusCode: 404);
            }

            var from = skip ?? 0;
            var page = new JsonObject
            {
                ["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#users(id)",
                ["value"] = new JsonArray([.. members.Skip(from).Take(2).Select(id => (JsonNode)new JsonObject { ["@odata.type"] = "#microsoft.graph.user", ["id"] = id })]),
            };
            if (from + 2 < members.Length)
            {
                page["@odata.nextLink"] = $"http://graph.test/v1.0/groups/{group}/transitiveMembers/graph.user?$select=id&skip={from + 2}";
            }

            return Results.Text(page.ToJsonString(), "application/json");
        });
        app.MapPost("/v1.0/subscriptions", async (HttpContext http) =>
        {
            var body = (await JsonNode.ParseAsync(http.Request.Body, CaseInsensitive))!.AsObject();
            var id = "sub-" + (fake.Subscriptions.Count + 1);
            body["id"] = id;
            fake.Subscriptions[id] = body;
            fake._subscriptionCreated.TrySetResult(body);
            fake.Requests.Enqueue(("/v1.0/subscriptions", body));
            return Results.Text(body.ToJsonString(), "application/json", statusCode: 201);
        });
        app.MapGet("/v1.0/subscriptions/{id}", (string id) =>
            fake.Subscriptions.TryGetValue(id, out var s) ? Results.Text(s.ToJsonString(), "application/json") : Results.Text("""{"error":{"code":"NotFound","message":"gone"}}""", "application/json", statusCode: 404));
        app.MapMethods("/v1.0/subscriptions/{id}", ["PATCH"], async (string id, HttpContext http) =>
        {
            var patch = (await JsonNode.ParseAsync(http.Request.Body, CaseInsensitive))!.AsObject();
            var s = fake.Subscriptions[id];
            s["expirationDateTime"] = patch["expirationDateTime"]!.DeepClone();
            fake.Requests.Enqueue(($"/v1.0/subscriptions/{id}:patch", patch));
            return Results.Text(s.ToJsonString(), "application/json");
        });
        await app.StartAsync();
        return fake;
    }

    private async Task<IResult> CreateDraftAsync(HttpContext http)
    {
        var body = (await JsonNode.ParseAsync(http.Request.Body, CaseInsensitive))!.AsObject();
        var id = "draft-" + Interlocked.Increment(ref _drafts);
        body["id"] = id;
        body["internetMessageId"] = $"<{id}@graph.test>";
        Drafts[id] = body;
        return Results.Text(body.ToJsonString(), "application/json", statusCode: 201);
    }

    private Task<IResult> SendDraftAsync(HttpContext http, string id)
    {
        if (Throttled(http) is { } throttled)
        {
            return Task.FromResult(throttled);
        }

        Mail.Enqueue(Drafts[id]);
        return Task.FromResult(Results.StatusCode(202));
    }

    private IResult? Throttled(HttpContext http)
    {
        if (!_throttles.TryDequeue(out var seconds))
        {
            return null;
        }

        http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Text("""{"error":{"code":"TooManyRequests","message":"Application is over its MailboxConcurrency limit."}}""", "application/json", statusCode: 429);
    }

    private async Task<IResult> RecordAsync(HttpContext http, int status, string? json)
    {
        if (Throttled(http) is { } throttled)
        {
            return throttled;
        }

        var body = (await JsonNode.ParseAsync(http.Request.Body, CaseInsensitive))!.AsObject();
        Requests.Enqueue((http.Request.Path.Value!, body));
        return json is null ? Results.StatusCode(status) : Results.Text(json, "application/json", statusCode: status);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
