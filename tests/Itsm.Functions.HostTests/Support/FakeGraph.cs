using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Itsm.Functions.HostTests.Support;

/// <summary>
/// Microsoft Graph and a managed-identity token endpoint at the network edge, for an app started as a process: the app
/// is pointed at it with settings (<c>Itsm:Graph:BaseUrl</c>; <c>IDENTITY_ENDPOINT</c> and <c>IDENTITY_HEADER</c>,
/// which is how App Service hands managed identity to an app), so the real Graph SDK and Azure.Identity run as they
/// do in Azure. It accepts mail (draft, then send) and Teams activity notifications, and records them.
/// </summary>
public sealed class FakeGraph : IAsyncDisposable
{
    public const string IdentityHeader = "itsm-host-tests-identity-header";

    private readonly WebApplication _app;
    private int _drafts;

    private FakeGraph(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Every request the app sent, as "METHOD /path".</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>The recipients of the mails that were sent (after the draft's send call).</summary>
    public ConcurrentQueue<string> MailSentTo { get; } = new();

    private ConcurrentDictionary<string, string> DraftRecipients { get; } = new();

    /// <summary>The app settings that point the app at this fake.</summary>
    public IReadOnlyDictionary<string, string> Settings(string senderMailbox) => new Dictionary<string, string>
    {
        ["Itsm__Graph__SenderMailbox"] = senderMailbox,
        ["Itsm__Graph__BaseUrl"] = $"http://127.0.0.1:{Port}/v1.0",
        ["IDENTITY_ENDPOINT"] = $"http://127.0.0.1:{Port}/msi/token",
        ["IDENTITY_HEADER"] = IdentityHeader,
    };

    public static async Task<FakeGraph> StartAsync()
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var graph = new FakeGraph(app, port);
        app.Use(async (context, next) =>
        {
            graph.Requests.Enqueue($"{context.Request.Method} {context.Request.Path}");
            await next(context);
        });
        app.MapGet("/msi/token", (HttpRequest request) =>
            request.Headers["X-IDENTITY-HEADER"] == IdentityHeader
                ? Results.Json(new Dictionary<string, string>
                {
                    ["access_token"] = "fake-graph-token",
                    ["expires_on"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                    ["resource"] = request.Query["resource"].ToString(),
                    ["token_type"] = "Bearer",
                })
                : Results.StatusCode(401));
        app.MapPost("/v1.0/users/{mailbox}/messages", async (HttpRequest request, string mailbox) =>
        {
            var body = await System.Text.Json.JsonDocument.ParseAsync(request.Body);
            var to = body.RootElement.GetProperty("toRecipients")[0].GetProperty("emailAddress").GetProperty("address").GetString() ?? "";
            var id = $"draft-{Interlocked.Increment(ref graph._drafts)}";
            graph.DraftRecipients[id] = to;
            return Results.Json(new { id, internetMessageId = $"<{id}@fake-graph>" }, statusCode: 201);
        });
        app.MapPost("/v1.0/users/{mailbox}/messages/{id}/send", (string mailbox, string id) =>
        {
            if (graph.DraftRecipients.TryGetValue(id, out var to))
            {
                graph.MailSentTo.Enqueue(to);
            }

            return Results.StatusCode(202);
        });
        app.MapPost("/v1.0/users/{id}/teamwork/sendActivityNotification", () => Results.NoContent());
        await app.StartAsync();
        return graph;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
