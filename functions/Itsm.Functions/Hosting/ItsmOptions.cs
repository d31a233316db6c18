using Itsm.Functions.Hosting.Standalone;

namespace Itsm.Functions.Hosting;

/// <summary>Every setting the app reads, under the <c>Itsm</c> section (app settings <c>Itsm__Section__Name</c>).</summary>
public sealed class ItsmOptions
{
    public const string SectionName = "Itsm";

    public SqliteSettings Sqlite { get; set; } = new();

    public StandaloneSettings Standalone { get; set; } = new();

    public QueueSettings Queues { get; set; } = new();

    public HttpSettings Http { get; set; } = new();

    public PolicySettings Policies { get; set; } = new();

    public EventSettings Events { get; set; } = new();

    /// <summary>The app's address as people reach it (links in prompts and replies); derived from the host when not set.</summary>
    public string? PublicBaseUrl { get; set; }

    public sealed class SqliteSettings
    {
        public string Path { get; set; } = System.IO.Path.Combine(".itsm", "itsm.db");
    }

    public sealed class StandaloneSettings
    {
        public string Urls { get; set; } = "http://localhost:7071";
    }

    public sealed class QueueSettings
    {
        public TimeSpan LockDuration { get; set; } = TimeSpan.FromSeconds(60);

        /// <summary>Deliveries before a message moves to the poison queue (the Functions host's <c>maxDequeueCount</c> in host.json is 5 too).</summary>
        public int MaxDeliveryCount { get; set; } = 5;

        public TimeSpan DuplicateDetectionWindow { get; set; } = TimeSpan.FromMinutes(10);

        public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

        public int MaxConcurrentCalls { get; set; } = 16;

        public QueueOptions ToQueueOptions() => new()
        {
            LockDuration = LockDuration,
            MaxDeliveryCount = MaxDeliveryCount,
            DuplicateDetectionWindow = DuplicateDetectionWindow,
            RetryDelay = RetryDelay,
            MaxConcurrentCalls = MaxConcurrentCalls,
        };
    }

    public sealed class HttpSettings
    {
        /// <summary>Largest API request body.</summary>
        public int MaxRequestBodyBytes { get; set; } = 1024 * 1024;
    }

    public sealed class PolicySettings
    {
        /// <summary>
        /// How long one minute of a tenant's policies lasts: SLA targets, approval timeouts and reminders are written in
        /// minutes and counted in these. One minute, except in tests and demos, which shorten it (down to one second) so
        /// that a policy of "20 minutes" runs in 20 seconds under either host. Refused with Entra tokens (deployed apps).
        /// </summary>
        public TimeSpan MinuteLength { get; set; } = TimeSpan.FromMinutes(1);
    }

    /// <summary>The event feed, webhooks and the Service Bus topic (<c>Itsm:Events:*</c>).</summary>
    public sealed class EventSettings
    {
        /// <summary>How long the feed keeps an event after it was placed in the log; the purge timer deletes older ones.</summary>
        public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

        public WebhookSettings Webhooks { get; set; } = new();

        public ServiceBusSettings ServiceBus { get; set; } = new();
    }

    /// <summary>The Service Bus topic the feed is published to; off while <see cref="FullyQualifiedNamespace"/> is empty.</summary>
    public sealed class ServiceBusSettings
    {
        /// <summary>The namespace's host name, e.g. <c>sb-abc.servicebus.windows.net</c>.</summary>
        public string? FullyQualifiedNamespace { get; set; }

        public string Topic { get; set; } = "itsm-events";

        /// <summary>Client id of the user-assigned managed identity; when empty, <c>DefaultAzureCredential</c> is used.</summary>
        public string? ManagedIdentityClientId { get; set; }
    }

    public sealed class WebhookSettings
    {
        /// <summary>Attempts of one delivery before it is marked failed (it can still be redelivered by hand).</summary>
        public int MaxAttempts { get; set; } = 8;

        /// <summary>Wait after the first failed attempt; doubled after each further one, up to <see cref="MaxBackoff"/>.</summary>
        public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(30);

        public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(1);

        /// <summary>How long one delivery may take before it counts as failed (a slow subscriber holds up only itself).</summary>
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

        /// <summary>Subscriptions delivered to at the same time.</summary>
        public int MaxConcurrentSubscriptions { get; set; } = 8;

        /// <summary>Development and tests only: allows http and loopback or private targets. Refused with Entra ID tokens.</summary>
        public bool AllowLocalTargets { get; set; }
    }

    /// <summary>Checks the settings at start; the app refuses to start and names the bad setting.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Sqlite.Path))
        {
            errors.Add("Itsm:Sqlite:Path must name a database file.");
        }

        if (!string.IsNullOrEmpty(PublicBaseUrl)
            && !(Uri.TryCreate(PublicBaseUrl, UriKind.Absolute, out var publicBase) && publicBase.Scheme is "http" or "https" && string.IsNullOrEmpty(publicBase.Query)))
        {
            errors.Add("Itsm:PublicBaseUrl must be an absolute http or https address, e.g. https://itsm.contoso.com.");
        }

        if (Queues.LockDuration < TimeSpan.FromSeconds(1))
        {
            errors.Add("Itsm:Queues:LockDuration must be at least one second.");
        }

        if (Queues.MaxDeliveryCount < 1)
        {
            errors.Add("Itsm:Queues:MaxDeliveryCount must be at least 1.");
        }

        if (Queues.MaxConcurrentCalls < 1)
        {
            errors.Add("Itsm:Queues:MaxConcurrentCalls must be at least 1.");
        }

        if (Http.MaxRequestBodyBytes is < 1024 or > 64 * 1024 * 1024)
        {
            errors.Add("Itsm:Http:MaxRequestBodyBytes must be between 1024 and 67108864 (64 MiB).");
        }

        if (Policies.MinuteLength < TimeSpan.FromSeconds(1) || Policies.MinuteLength > TimeSpan.FromMinutes(1))
        {
            errors.Add("Itsm:Policies:MinuteLength must be between 00:00:01 and 00:01:00.");
        }

        if (Events.Retention < TimeSpan.FromHours(1) || Events.Retention > TimeSpan.FromDays(3650))
        {
            errors.Add("Itsm:Events:Retention must be between 01:00:00 (one hour) and 3650.00:00:00 (ten years).");
        }

        if (Events.Webhooks.MaxAttempts is < 1 or > 50)
        {
            errors.Add("Itsm:Events:Webhooks:MaxAttempts must be between 1 and 50.");
        }

        if (Events.Webhooks.InitialBackoff < TimeSpan.FromSeconds(1) || Events.Webhooks.MaxBackoff < Events.Webhooks.InitialBackoff)
        {
            errors.Add("Itsm:Events:Webhooks:InitialBackoff must be at least one second and MaxBackoff at least InitialBackoff.");
        }

        if (Events.Webhooks.Timeout < TimeSpan.FromMilliseconds(100) || Events.Webhooks.Timeout > TimeSpan.FromMinutes(2))
        {
            errors.Add("Itsm:Events:Webhooks:Timeout must be between 00:00:00.1 and 00:02:00.");
        }

        if (Events.Webhooks.MaxConcurrentSubscriptions is < 1 or > 256)
        {
            errors.Add("Itsm:Events:Webhooks:MaxConcurrentSubscriptions must be between 1 and 256.");
        }

        return errors;
    }
}
