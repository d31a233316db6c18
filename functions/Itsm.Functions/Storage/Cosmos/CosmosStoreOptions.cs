namespace Itsm.Functions.Storage.Cosmos;

/// <summary>
/// Settings of the Cosmos DB adapter, bound from <c>Itsm:Cosmos</c> (app settings <c>Itsm__Cosmos__AccountEndpoint</c> ...).
/// In Azure only <see cref="AccountEndpoint"/> and <see cref="ManagedIdentityClientId"/> are set: the app signs in with
/// its user-assigned managed identity; the account has local (key) authentication disabled.
/// </summary>
public sealed class CosmosStoreOptions
{
    public const string SectionName = "Itsm:Cosmos";

    /// <summary>The account endpoint, e.g. <c>https://cosmos-abc.documents.azure.com:443/</c>.</summary>
    public string? AccountEndpoint { get; set; }

    public string DatabaseName { get; set; } = "itsm";

    /// <summary>Client id of the user-assigned managed identity; when empty, <c>DefaultAzureCredential</c> is used.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>An account key: only for the emulator or a test server. Never set in Azure (key auth is disabled there).</summary>
    public string? Key { get; set; }

    /// <summary>Accept any TLS certificate (the emulator's or a test server's self-signed one). Tests only.</summary>
    public bool AllowInsecureEmulatorCertificate { get; set; }

    /// <summary>Retries of a throttled (429) request; the SDK waits the server's retry-after between attempts.</summary>
    public int MaxRetryAttemptsOnRateLimitedRequests { get; set; } = 9;

    /// <summary>The longest total wait across the retries of one throttled request.</summary>
    public TimeSpan MaxRetryWaitTimeOnRateLimitedRequests { get; set; } = TimeSpan.FromSeconds(30);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Uri.TryCreate(AccountEndpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme != Uri.UriSchemeHttps)
        {
            errors.Add("Itsm:Cosmos:AccountEndpoint must be an https URL.");
        }

        if (string.IsNullOrWhiteSpace(DatabaseName))
        {
            errors.Add("Itsm:Cosmos:DatabaseName must not be empty.");
        }

        if (MaxRetryAttemptsOnRateLimitedRequests < 0)
        {
            errors.Add("Itsm:Cosmos:MaxRetryAttemptsOnRateLimitedRequests must not be negative.");
        }

        if (MaxRetryWaitTimeOnRateLimitedRequests < TimeSpan.Zero)
        {
            errors.Add("Itsm:Cosmos:MaxRetryWaitTimeOnRateLimitedRequests must not be negative.");
        }

        return errors;
    }
}
