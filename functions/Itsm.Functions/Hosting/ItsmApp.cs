using System.Reflection;
using Itsm.Functions.Hosting.Standalone;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Storage.Sqlite;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Itsm.Functions.Hosting;

public enum HostMode
{
    /// <summary>Started by the Azure Functions host; serves the custom-handler protocol only.</summary>
    CustomHandler,

    /// <summary>Hosts its own HTTP, queue and timer triggers and stores everything in SQLite.</summary>
    Standalone,
}

public sealed record HostInfo(HostMode Mode, string Version);

/// <summary>The composition root shared by <c>Program</c>, the tests and the benchmarks.</summary>
public static class ItsmApp
{
    public static string Version { get; } =
        typeof(ItsmApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <param name="configure">Runs first: tests add configuration, a test server and fakes (a clock) here.</param>
    /// <param name="configureFunctions">Extra function declarations (tests only).</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null, Action<FunctionCatalogBuilder>? configureFunctions = null)
    {
        // The content root is the app's folder, so appsettings.json applies wherever the process is started;
        // relative data paths (the database) still resolve against the working directory.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder);

        var options = builder.Configuration.GetSection(ItsmOptions.SectionName).Get<ItsmOptions>() ?? new ItsmOptions();
        var errors = options.Validate().ToList();
        var port = builder.Configuration[ItsmOptions.CustomHandlerPortVariable];
        var mode = string.IsNullOrEmpty(port) ? HostMode.Standalone : HostMode.CustomHandler;
        if (mode == HostMode.CustomHandler && !(int.TryParse(port, out var portNumber) && portNumber is > 0 and < 65536))
        {
            errors.Add($"{ItsmOptions.CustomHandlerPortVariable} must be a TCP port number, not '{port}'.");
        }

        // Every settings problem at once: one failed start names all the settings to fix.
        var services = builder.Services;
        var underFunctionsHost = mode == HostMode.CustomHandler;
        CollectSettingErrors(errors, () => services.AddItsmSecurity(builder.Configuration, underFunctionsHost));
        CollectSettingErrors(errors, () => services.AddItsmStorage(builder.Configuration, underFunctionsHost));
        if (errors.Count > 0)
        {
            throw new InvalidSettingsException(errors);
        }

        builder.WebHost.UseUrls(mode == HostMode.CustomHandler ? $"http://127.0.0.1:{port}" : options.Standalone.Urls);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.Http.MaxEnvelopeBytes;
        });

        var catalog = ItsmFunctions.CreateCatalog(configureFunctions);
        services.AddSingleton(options);
        services.AddSingleton(new HostInfo(mode, Version));
        services.AddSingleton(new HttpLimits(options.Http.MaxRequestBodyBytes));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(_ => new SqliteDatabase(options.Sqlite.Path));
        services.AddSingleton(catalog);
        services.AddSingleton<FunctionDispatcher>();
        services.AddSingleton<Durable.DurableClientResolver>();
        services.AddItsmFeatures();

        if (mode == HostMode.Standalone)
        {
            services.AddSingleton(sp => new EmbeddedQueue(sp.GetRequiredService<SqliteDatabase>(), sp.GetRequiredService<TimeProvider>(), options.Queues.ToQueueOptions()));
            services.AddSingleton<StandaloneInvoker>();
            services.AddSingleton(sp => new Itsm.Durable.Engine.EmbeddedDurableEngine(
                new Itsm.Durable.Engine.EmbeddedEngineOptions(options.Sqlite.Path),
                sp.GetRequiredService<StandaloneInvoker>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<Itsm.Durable.Engine.EmbeddedDurableEngine>>()));
            services.AddSingleton<Itsm.Durable.Client.IDurableClient, EmbeddedDurableClient>();
            services.AddHostedService<EmbeddedEngineHost>();
            services.AddSingleton<SqliteWalCheckpointer>();
            services.AddHostedService(sp => sp.GetRequiredService<SqliteWalCheckpointer>());
            foreach (var function in catalog.Functions)
            {
                switch (function.Trigger)
                {
                    case ServiceBusQueueTrigger:
                        services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<QueueTriggerListener>(sp, function));
                        break;
                    case TimerTrigger:
                        services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<TimerTriggerListener>(sp, function));
                        break;
                }
            }
        }

        var app = builder.Build();
        app.UseMiddleware<ProblemExceptionMiddleware>();
        app.UseStatusCodePages(context => StatusCodeProblem.WriteAsync(context.HttpContext));
        if (mode == HostMode.CustomHandler)
        {
            app.MapCustomHandler();
        }
        else
        {
            app.MapGet("/", () => Results.Text($"ItsmFunctions {Version} (standalone). The API is under /api.", "text/plain"));
            app.MapStandaloneHttpFunctions(catalog);
        }

        app.Lifetime.ApplicationStarted.Register(() => AnnounceAddresses(app, mode, options));
        return app;
    }

    private static void CollectSettingErrors(List<string> errors, Action register)
    {
        try
        {
            register();
        }
        catch (InvalidSettingsException ex)
        {
            errors.AddRange(ex.Errors);
        }
    }

    private static void AnnounceAddresses(WebApplication app, HostMode mode, ItsmOptions options)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        if (mode == HostMode.Standalone && addresses.Count > 0)
        {
            Console.WriteLine($"ItsmFunctions {Version} standalone: listening on {string.Join(", ", addresses)} (API under /api), database {Path.GetFullPath(options.Sqlite.Path)}. Press Ctrl+C to stop.");
        }
    }
}

public sealed class InvalidSettingsException(IReadOnlyList<string> errors)
    : Exception("The app cannot start: " + string.Join(" ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>Routing's bare 404 and 405 answers become problem details.</summary>
internal static class StatusCodeProblem
{
    public static Task WriteAsync(HttpContext context)
    {
        var status = context.Response.StatusCode;
        var title = status switch
        {
            404 => "Not found.",
            405 => "Method not allowed.",
            _ => "The request failed.",
        };
        var detail = status switch
        {
            404 => $"No route matches '{context.Request.Path}'.",
            405 => $"'{context.Request.Path}' does not accept {context.Request.Method}.",
            _ => null,
        };
        return StandaloneHttpEndpoints.WriteProblemAsync(context, HttpResults.Problem(status, title, detail));
    }
}

/// <summary>An unexpected exception becomes a 500 problem without details; the stack trace goes to the log only.</summary>
internal sealed class ProblemExceptionMiddleware(RequestDelegate next, ILogger<ProblemExceptionMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            await StandaloneHttpEndpoints.WriteProblemAsync(context, HttpResults.Problem(ex.StatusCode, "Bad request.", ex.StatusCode == 413 ? "The request body is too large." : "The request could not be read."));
        }
        catch (Exception ex) when (!context.Response.HasStarted && ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Unhandled exception for {Method} {Path}.", context.Request.Method, context.Request.Path);
            await StandaloneHttpEndpoints.WriteProblemAsync(context, HttpResults.Problem(500, "An unexpected error occurred.", $"Trace id {context.TraceIdentifier}."));
        }
    }
}
