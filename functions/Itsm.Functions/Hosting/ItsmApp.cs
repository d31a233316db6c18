using System.Reflection;
using Itsm.Functions.Hosting.Standalone;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Storage.Sqlite;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Itsm.Functions.Hosting;

public enum HostMode
{
    /// <summary>The Azure Functions host started this process as its isolated worker.</summary>
    FunctionsHost,

    /// <summary>No Functions host: the app serves HTTP, runs its queue, timers and orchestrations itself, on SQLite.</summary>
    Standalone,
}

public sealed record HostInfo(HostMode Mode, string Version);

/// <summary>The composition root shared by <c>Program</c>, the tests and the benchmarks.</summary>
public static class ItsmApp
{
    public static string Version { get; } =
        typeof(ItsmApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>
    /// Whether the Functions host started this process. The host starts its worker with the address of its gRPC
    /// channel and a worker id on the command line (<c>--functions-worker-id</c>, and <c>--workerId</c> for older
    /// workers); nobody else passes them, so without them the process is standalone.
    /// </summary>
    public static bool StartedByFunctionsHost(IReadOnlyList<string> args) =>
        args.Any(a => a is "--functions-worker-id" or "--workerId");

    /// <summary>The isolated worker, for the Functions host: the SDK finds the functions from their attributes.</summary>
    /// <param name="configure">Runs first (tests replace the configuration here).</param>
    public static IHost BuildFunctionsWorker(string[] args, Action<IConfigurationManager>? configure = null)
    {
        var builder = FunctionsApplication.CreateBuilder(args);
        configure?.Invoke(builder.Configuration);
        builder.ConfigureFunctionsWebApplication();
        builder.Services.AddItsmApp(builder.Configuration, HostMode.FunctionsHost, FunctionIndex.ForApp());
        return builder.Build();
    }

    /// <summary>
    /// The standalone host: an ASP.NET Core app on <c>Itsm:Standalone:Urls</c> that maps every HTTP function to its
    /// route, delivers the embedded queue to queue functions, fires timer functions and runs the orchestrations.
    /// </summary>
    /// <param name="configure">Runs first: tests add configuration, a test server and fakes (a clock) here.</param>
    /// <param name="extraFunctionTypes">Classes with more functions (tests only).</param>
    /// <param name="announce">Whether to print where it listens once started (not for a command's own short-lived host).</param>
    public static WebApplication BuildStandalone(string[] args, Action<WebApplicationBuilder>? configure = null, IEnumerable<Type>? extraFunctionTypes = null, bool announce = true)
    {
        // The content root is the app's folder, so appsettings.json applies wherever the process is started;
        // relative data paths (the database) still resolve against the working directory.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder);

        var index = FunctionIndex.ForApp(extraFunctionTypes);
        if (index.Functions.SelectMany(FunctionInvoker.Check).ToArray() is { Length: > 0 } unbindable)
        {
            throw new InvalidOperationException(string.Join(" ", unbindable));
        }

        var services = builder.Services;
        var options = services.AddItsmApp(builder.Configuration, HostMode.Standalone, index);
        builder.WebHost.UseUrls(options.Standalone.Urls);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.UseProblemDetailsForRejections();
        });

        services.AddSingleton(sp => new EmbeddedQueue(sp.GetRequiredService<SqliteDatabase>(), sp.GetRequiredService<TimeProvider>(), options.Queues.ToQueueOptions()));
        services.AddStandaloneDurable(options);
        services.AddSingleton<SqliteWalCheckpointer>();
        services.AddHostedService(sp => sp.GetRequiredService<SqliteWalCheckpointer>());
        foreach (var function in index.OfKind(TriggerKind.Queue))
        {
            services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<QueueTriggerListener>(sp, function));
        }

        foreach (var function in index.OfKind(TriggerKind.Timer))
        {
            services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<TimerTriggerListener>(sp, function));
        }

        var app = builder.Build();
        app.UseMiddleware<ProblemExceptionMiddleware>();
        app.UseStatusCodePages(context => StatusCodeProblem.WriteAsync(context.HttpContext));
        app.MapGet("/", () => Results.Text($"ItsmFunctions {Version} (standalone). The API is under /api.", "text/plain"));
        app.MapStandaloneHttpFunctions(index);
        if (announce)
        {
            app.Lifetime.ApplicationStarted.Register(() => AnnounceAddresses(app, options));
        }

        return app;
    }

    /// <summary>Everything both hosts share. Throws <see cref="InvalidSettingsException"/> naming every bad setting at once.</summary>
    public static ItsmOptions AddItsmApp(this IServiceCollection services, IConfiguration configuration, HostMode mode, FunctionIndex index)
    {
        var options = configuration.GetSection(ItsmOptions.SectionName).Get<ItsmOptions>() ?? new ItsmOptions();
        var errors = options.Validate().ToList();
        var underFunctionsHost = mode == HostMode.FunctionsHost;
        CollectSettingErrors(errors, () => services.AddItsmSecurity(configuration, underFunctionsHost));
        CollectSettingErrors(errors, () => services.AddItsmStorage(configuration, underFunctionsHost));
        if (options.Policies.MinuteLength != TimeSpan.FromMinutes(1) && AuthOptions.Bind(configuration, underFunctionsHost).Mode == AuthMode.Entra)
        {
            errors.Add("Itsm:Policies:MinuteLength shortens every SLA target and approval timeout: it is for tests and demos with dev tokens, not for an app that accepts Entra ID tokens.");
        }

        if (options.Events.Webhooks.AllowLocalTargets && AuthOptions.Bind(configuration, underFunctionsHost).Mode == AuthMode.Entra)
        {
            errors.Add("Itsm:Events:Webhooks:AllowLocalTargets lets webhooks reach http and internal addresses: it is for development with dev tokens, not for an app that accepts Entra ID tokens.");
        }

        if (errors.Count > 0)
        {
            throw new InvalidSettingsException(errors);
        }

        services.AddSingleton(options);
        services.AddSingleton(index);
        services.AddSingleton(new HostInfo(mode, Version));
        services.AddSingleton(new HttpLimits(options.Http.MaxRequestBodyBytes));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(_ => new SqliteDatabase(options.Sqlite.Path));
        services.AddSingleton<HttpEndpoint>();
        services.AddSingleton<PublicAddress>();
        services.AddSingleton<Idempotency>();
        services.AddItsmFeatures();
        return options;
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

    private static void AnnounceAddresses(WebApplication app, ItsmOptions options)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        if (addresses.Count > 0)
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

/// <summary>Routing's bare 404 and 405 answers (and any other empty 4xx) become problem details.</summary>
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
        return HttpResults.Problem(status, title, detail).ExecuteAsync(context);
    }
}

/// <summary>An exception that escapes a function becomes a 500 problem without details; the stack trace goes to the log only.</summary>
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
            await HttpResults.Problem(ex.StatusCode, "Bad request.", ex.StatusCode == 413 ? "The request body is too large." : "The request could not be read.").ExecuteAsync(context);
        }
        catch (Exception ex) when (!context.Response.HasStarted && ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Unhandled exception for {Method} {Path}.", context.Request.Method, context.Request.Path);
            await HttpResults.Problem(500, "An unexpected error occurred.", $"Trace id {context.TraceIdentifier}.").ExecuteAsync(context);
        }
    }
}
