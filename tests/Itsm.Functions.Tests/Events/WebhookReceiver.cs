using System.Threading.Channels;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging;

namespace Itsm.Functions.Tests.Events;

/// <summary>A webhook subscriber on a local port: records every request and answers with what the test says.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WebhookReceiver(WebApplication app) => _app = app;

    public sealed record Received(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body);

    public Channel<Received> Requests { get; } = Channel.CreateUnbounded<Received>();

    /// <summary>The status to answer with; null to hang until the receiver is disposed (a slow subscriber).</summary>
    public int? Status { get; set; } = 204;

    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            await receiver.Requests.Writer.WriteAsync(new Received(context.Request.Path, headers, buffer.ToArray()));
            if (receiver.Status is not { } status)
            {
                await receiver._release.Task.WaitAsync(context.RequestAborted);
                status = 204;
            }

            return Results.StatusCode(status);
        });
        await app.StartAsync();
        receiver.BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return receiver;
    }

    public string Url(string path = "hook") => new Uri(BaseAddress, path).ToString();

    /// <summary>The next request, or a failure after <paramref name="patience"/>.</summary>
    public async Task<Received> NextAsync(TimeSpan? patience = null)
    {
        using var timeout = new CancellationTokenSource(patience ?? TimeSpan.FromSeconds(20));
        return await Requests.Reader.ReadAsync(timeout.Token);
    }

    /// <summary>Every request received so far, without waiting.</summary>
    public List<Received> Drain()
    {
        var all = new List<Received>();
        while (Requests.Reader.TryRead(out var item))
        {
            all.Add(item);
        }

        return all;
    }

    public async ValueTask DisposeAsync()
    {
        _release.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
