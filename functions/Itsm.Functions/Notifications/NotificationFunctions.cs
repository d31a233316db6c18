using System.Text.Json;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Itsm.Functions.Notifications;

/// <summary>Notifications: the outbox dispatcher, and the admin API of the outbox and of the tenant's rules and templates.</summary>
public sealed class NotificationFunctions(HttpEndpoint http, NotificationOutbox outbox, ILogger<NotificationFunctions> logger)
{
    [Function("NotificationOutboxDispatch")]
    public async Task NotificationOutboxDispatch([TimerTrigger("*/30 * * * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var sent = await outbox.DispatchDueAsync(cancellationToken);
        if (sent > 0)
        {
            logger.LogInformation("Sent {Count} notifications.", sent);
        }
    }

    [Function("Admin_NotificationOutbox")]
    [ApiDoc("The tenant's stored notifications, newest first; ?state=Pending|Sending|Sent|Failed (admins).", QueryParameters = ["state", "pageSize", "continuationToken"])]
    public Task<IResult> AdminNotificationOutbox([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "manage/notifications/outbox")] HttpRequest req) =>
        http.ApiAsync(req, ListOutboxAsync);

    [Function("Admin_GetNotificationSettings")]
    [ApiDoc("The tenant's notification rules and templates (the product's defaults until replaced) (admins).")]
    public Task<IResult> AdminGetNotificationSettings([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "manage/notifications/settings")] HttpRequest req) =>
        http.ApiAsync(req, GetSettingsAsync);

    [Function("Admin_PutNotificationSettings")]
    [ApiDoc("Replace the tenant's notification rules and templates (admins).", RequestSchema = "NotificationSettings")]
    public Task<IResult> AdminPutNotificationSettings([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "manage/notifications/settings")] HttpRequest req) =>
        http.ApiAsync(req, PutSettingsAsync);

    private static async Task<HttpResponseOutput> ListOutboxAsync(ApiContext api)
    {
        if (!api.Caller.IsAdmin)
        {
            return ApiFunctions.Forbidden("The outbox is for admins.");
        }

        var errors = new Dictionary<string, string[]>();
        OutboxState? state = null;
        if (api.Request.QueryValue("state") is { } text)
        {
            if (Enum.TryParse<OutboxState>(text, ignoreCase: true, out var parsed) && !int.TryParse(text, out _))
            {
                state = parsed;
            }
            else
            {
                errors["state"] = ["must be Pending, Sending, Sent or Failed."];
            }
        }

        var pageSize = 50;
        if (api.Request.QueryValue("pageSize") is { } size && (!int.TryParse(size, out pageSize) || pageSize is < 1 or > 200))
        {
            errors["pageSize"] = ["must be 1 to 200."];
        }

        if (errors.Count > 0)
        {
            return HttpResults.ValidationProblem(errors);
        }

        try
        {
            var page = await api.Services.GetRequiredService<NotificationOutbox>().ListAsync(api.Caller.TenantId, state, pageSize, api.Request.QueryValue("continuationToken"), api.CancellationToken);
            return HttpResults.Ok(new { items = page.Items.Select(i => i.Document), continuationToken = page.ContinuationToken });
        }
        catch (InvalidContinuationTokenException ex)
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["continuationToken"] = [ex.Message] });
        }
    }

    private static async Task<HttpResponseOutput> GetSettingsAsync(ApiContext api) =>
        !api.Caller.IsAdmin
            ? ApiFunctions.Forbidden("Notification settings are for admins.")
            : HttpResults.Ok(await api.Services.GetRequiredService<NotificationSettingsStore>().GetAsync(api.Caller.TenantId, api.CancellationToken));

    private static async Task<HttpResponseOutput> PutSettingsAsync(ApiContext api)
    {
        if (!api.Caller.IsAdmin)
        {
            return ApiFunctions.Forbidden("Notification settings are for admins.");
        }

        NotificationSettingsInput? input;
        try
        {
            input = JsonSerializer.Deserialize<NotificationSettingsInput>(api.Request.Body ?? "", new JsonSerializerOptions(HttpResults.Json) { UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow });
        }
        catch (JsonException ex)
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { [ex.Path ?? "$"] = [ex.Message.Split('.')[0] + "."] });
        }

        if (input?.Rules is null || input.Templates is null)
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["$"] = ["'rules' and 'templates' are required."] });
        }

        var settings = new NotificationSettingsDocument("settings", api.Caller.TenantId, input.Rules, input.Templates, input.DefaultCulture ?? "en");
        if (NotificationSettingsStore.Validate(settings) is { } problem)
        {
            return problem;
        }

        await api.Services.GetRequiredService<NotificationSettingsStore>().PutAsync(settings, api.CancellationToken);
        return HttpResults.Ok(settings);
    }

    private sealed record NotificationSettingsInput(IReadOnlyList<NotificationRule>? Rules, IReadOnlyList<NotificationTemplate>? Templates, string? DefaultCulture);
}

/// <summary>The feature's services.</summary>
public static class NotificationFeature
{
    public static IServiceCollection AddNotifications(this IServiceCollection services)
    {
        services.AddOptions<GraphOptions>().BindConfiguration(GraphOptions.SectionName);
        services.AddSingleton<NotificationSettingsStore>().AddSingleton<NotificationOutbox>().AddSingleton<TicketNotifications>();
        services.AddSingleton<ITicketFollowUpSource>(sp => sp.GetRequiredService<TicketNotifications>());
        services.AddSingleton<ITicketFollowUpHandler>(sp => sp.GetRequiredService<TicketNotifications>());

        // Other features' notices go through the outbox (registered after their recording defaults, before approvals' TryAdd).
        services.AddSingleton<Sla.ISlaNotifier, OutboxSlaNotifier>();
        services.TryAddSingleton<Approvals.IApprovalNotifier, OutboxApprovalNotifier>();
        services.TryAddSingleton<Approvals.IApproverDirectory, GraphApproverDirectory>();

        // Graph only when configured (tests register their own client pointed at a fake Graph).
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<GraphOptions>>().Value.CreateClient());
        services.AddSingleton<INotificationSender, GraphNotificationSender>();
        services.AddSingleton(sp => new GraphMailbox(sp.GetRequiredService<Microsoft.Graph.GraphServiceClient>(), sp.GetRequiredService<IOptions<GraphOptions>>(), sp.GetRequiredService<TimeProvider>()));
        return services;
    }
}
