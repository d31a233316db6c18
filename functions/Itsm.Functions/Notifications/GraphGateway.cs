using Azure.Identity;
using Itsm.Functions.Intake;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Authentication.Azure;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware;

namespace Itsm.Functions.Notifications;

/// <summary>
/// Microsoft Graph settings (<c>Itsm:Graph</c>). Without <see cref="SenderMailbox"/> nothing talks to Graph: notifications
/// stay in the outbox and no mail subscription is made.
/// </summary>
public sealed class GraphOptions
{
    public const string SectionName = "Itsm:Graph";

    /// <summary>The mailbox notifications are sent from (Mail.Send, scoped to it by an application access policy).</summary>
    public string? SenderMailbox { get; set; }

    /// <summary>Intake mailboxes to subscribe to; each must also be an <see cref="IntakeSource"/> (its Secret is the clientState).</summary>
    public List<string> IntakeMailboxes { get; set; } = [];

    /// <summary>The public URL of the <c>Intake_GraphNotifications</c> webhook, e.g. https://func-api-x.azurewebsites.net/api/intake/graph.</summary>
    public string? NotificationUrl { get; set; }

    /// <summary>The Teams app id of the activity-feed notifications (TeamsActivity.Send).</summary>
    public string? TeamsAppId { get; set; }

    public string BaseUrl { get; set; } = "https://graph.microsoft.com/v1.0";

    /// <summary>The user-assigned managed identity's client id (none: DefaultAzureCredential).</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>
    /// Read requesters' managers from the directory (<c>GET /users/{id}/manager</c>, application permission
    /// User.Read.All) for approvals; off by default, when the approval settings' <c>managers</c> are the only source.
    /// </summary>
    public bool DirectoryManagers { get; set; }

    /// <summary>
    /// Read the members of approval groups named by an Entra group object id from the directory (nested groups
    /// included; application permission GroupMember.Read.All); off by default, when the approval settings' <c>groups</c>
    /// are the only source.
    /// </summary>
    public bool DirectoryGroups { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(SenderMailbox);

    public bool ReadsMail => IntakeMailboxes.Count > 0;

    /// <summary>
    /// A Graph client whose own retry handler is removed: throttling (429, Retry-After) is handled by the outbox and the
    /// queue, which reschedule the work instead of holding a function invocation while waiting.
    /// </summary>
    public GraphServiceClient CreateClient()
    {
        var credential = string.IsNullOrEmpty(ManagedIdentityClientId)
            ? (Azure.Core.TokenCredential)new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(ManagedIdentityClientId));
        var auth = new AzureIdentityAuthenticationProvider(credential, [new Uri(BaseUrl).Host], scopes: ["https://graph.microsoft.com/.default"]);
        return CreateClient(auth, BaseUrl, null);
    }

    public static GraphServiceClient CreateClient(Microsoft.Kiota.Abstractions.Authentication.IAuthenticationProvider auth, string baseUrl, HttpMessageHandler? finalHandler)
    {
        var handlers = GraphClientFactory.CreateDefaultHandlers().Where(h => h is not RetryHandler).ToList();
        var http = GraphClientFactory.Create(handlers, finalHandler: finalHandler ?? new SocketsHttpHandler());
        http.Timeout = TimeSpan.FromSeconds(30);
        return new GraphServiceClient(http, auth, baseUrl);
    }

    /// <summary>How a Graph failure counts: throttled (with its Retry-After), transient, or permanent.</summary>
    public static SendResult Classify(ApiException ex)
    {
        var status = ex.ResponseStatusCode;
        var message = ex is Microsoft.Graph.Models.ODataErrors.ODataError odata ? odata.Error?.Message ?? ex.Message : ex.Message;
        if (status is 429 or 503 or 504)
        {
            return new SendResult(SendStatus.Throttled, RetryAfter(ex), $"{status}: {message}");
        }

        return status >= 500 || status == 408 ? new SendResult(SendStatus.Transient, null, $"{status}: {message}") : new SendResult(SendStatus.Permanent, null, $"{status}: {message}");
    }

    private static TimeSpan? RetryAfter(ApiException ex)
    {
        var header = ex.ResponseHeaders.FirstOrDefault(h => string.Equals(h.Key, "Retry-After", StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault();
        return int.TryParse(header, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) ? TimeSpan.FromSeconds(seconds) : null;
    }
}

/// <summary>
/// Sends outbox notifications through Graph: mail from the sender mailbox (a draft, then send; a retry after a
/// throttled send leaves the earlier draft in the mailbox's Drafts folder), Teams activity-feed notifications to users.
/// </summary>
public sealed class GraphNotificationSender(GraphServiceClient graph, Microsoft.Extensions.Options.IOptions<GraphOptions> options, IntakeThreads threads) : INotificationSender
{
    /// <summary>Marks our own mail, so intake recognises a loop when it comes back.</summary>
    public const string NotificationHeader = "X-Itsm-Notification";

    public async Task<SendResult> SendAsync(OutboxNotification notification, CancellationToken cancellationToken)
    {
        try
        {
            if (notification.Channel == NotificationChannel.Mail)
            {
                // A draft first, then send: the draft tells us the Internet message id, which is stored as a thread key of
                // the ticket, so a reply whose client dropped the subject tag still threads by In-Reply-To.
                var mailbox = graph.Users[options.Value.SenderMailbox];
                var draft = await mailbox.Messages.PostAsync(
                    new Message
                    {
                        Subject = notification.Subject,
                        Body = new ItemBody { ContentType = BodyType.Html, Content = notification.Html },
                        ToRecipients = [new Recipient { EmailAddress = new EmailAddress { Address = notification.Recipient.Email, Name = notification.Recipient.Name } }],
                        InternetMessageHeaders = [new InternetMessageHeader { Name = NotificationHeader, Value = notification.Id }],
                    },
                    cancellationToken: cancellationToken);
                if (draft?.Id is null)
                {
                    return new SendResult(SendStatus.Transient, null, "Graph returned a draft without an id.");
                }

                if (notification.TicketId is { } ticketId && draft.InternetMessageId is { Length: > 0 } internetMessageId)
                {
                    await threads.RecordAsync(notification.TenantId, IntakeThreads.MessageKey(internetMessageId), ticketId, cancellationToken);
                }

                await mailbox.Messages[draft.Id].Send.PostAsync(cancellationToken: cancellationToken);
            }
            else
            {
                await graph.Users[notification.Recipient.Id].Teamwork.SendActivityNotification.PostAsync(
                    new Microsoft.Graph.Users.Item.Teamwork.SendActivityNotification.SendActivityNotificationPostRequestBody
                    {
                        Topic = new TeamworkActivityTopic { Source = TeamworkActivityTopicSource.Text, Value = notification.Subject, WebUrl = notification.Link },
                        ActivityType = "systemDefault",
                        PreviewText = new ItemBody { Content = notification.Text.Length > 150 ? notification.Text[..150] : notification.Text },
                        TeamsAppId = options.Value.TeamsAppId,
                        TemplateParameters = [new Microsoft.Graph.Models.KeyValuePair { Name = "systemDefaultText", Value = notification.Subject }],
                    },
                    cancellationToken: cancellationToken);
            }

            return SendResult.Sent;
        }
        catch (ApiException ex)
        {
            return GraphOptions.Classify(ex);
        }
        catch (HttpRequestException ex)
        {
            return new SendResult(SendStatus.Transient, null, ex.Message);
        }
    }
}

/// <summary>Reads intake mail through Graph and keeps the mailbox subscriptions alive.</summary>
public sealed class GraphMailbox(GraphServiceClient graph, Microsoft.Extensions.Options.IOptions<GraphOptions> options, TimeProvider time)
{
    /// <summary>Graph's maximum lifetime of a mail subscription is a little under 3 days; renew when less than a day is left.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(70);

    public static readonly TimeSpan RenewBefore = TimeSpan.FromHours(24);

    /// <summary>The message as a normalised intake message; null when it no longer exists.</summary>
    public async Task<IntakeMessage?> FetchAsync(string mailbox, string messageId, CancellationToken cancellationToken)
    {
        Message? message;
        try
        {
            message = await graph.Users[mailbox].Messages[messageId].GetAsync(
                r => r.QueryParameters.Select = ["id", "subject", "body", "from", "sender", "receivedDateTime", "internetMessageId", "conversationId", "internetMessageHeaders", "hasAttachments"],
                cancellationToken);
        }
        catch (ApiException ex) when (ex.ResponseStatusCode == 404)
        {
            return null;
        }

        if (message is null)
        {
            return null;
        }

        var headers = (message.InternetMessageHeaders ?? [])
            .Where(h => h.Name is not null)
            .GroupBy(h => h.Name!, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First().Value ?? "", StringComparer.OrdinalIgnoreCase);
        var from = message.From?.EmailAddress ?? message.Sender?.EmailAddress;
        var html = message.Body?.ContentType == BodyType.Html ? message.Body.Content : null;
        return new IntakeMessage("email", message.Id ?? messageId, from?.Address ?? "", message.Subject ?? "", html is null ? message.Body?.Content : null, message.ReceivedDateTime ?? time.GetUtcNow())
        {
            Source = mailbox,
            SenderName = from?.Name,
            BodyHtml = html,
            InternetMessageId = message.InternetMessageId,
            InReplyTo = headers.GetValueOrDefault("In-Reply-To"),
            References = headers.TryGetValue("References", out var references) ? [references] : [],
            ConversationId = message.ConversationId,
            Headers = headers,
        };
    }

    /// <summary>Creates the subscription of a mailbox when it has none, renews it when it expires within <see cref="RenewBefore"/>; returns its id and expiry.</summary>
    public async Task<(string Id, DateTimeOffset ExpiresAt)> EnsureSubscriptionAsync(string mailbox, string clientState, string? knownSubscriptionId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (knownSubscriptionId is not null)
        {
            try
            {
                var current = await graph.Subscriptions[knownSubscriptionId].GetAsync(cancellationToken: cancellationToken);
                if (current?.ExpirationDateTime is { } expires && expires - now > RenewBefore)
                {
                    return (knownSubscriptionId, expires);
                }

                var renewed = await graph.Subscriptions[knownSubscriptionId].PatchAsync(new Subscription { ExpirationDateTime = now + Lifetime }, cancellationToken: cancellationToken);
                return (knownSubscriptionId, renewed?.ExpirationDateTime ?? now + Lifetime);
            }
            catch (ApiException ex) when (ex.ResponseStatusCode == 404)
            {
                // Expired or deleted: make a new one.
            }
        }

        var created = await graph.Subscriptions.PostAsync(
            new Subscription
            {
                ChangeType = "created",
                NotificationUrl = options.Value.NotificationUrl,
                Resource = $"users/{mailbox}/mailFolders('inbox')/messages",
                ExpirationDateTime = now + Lifetime,
                ClientState = clientState,
            },
            cancellationToken: cancellationToken);
        return (created?.Id ?? throw new InvalidOperationException("Graph created a subscription without an id."), created.ExpirationDateTime ?? now + Lifetime);
    }
}
