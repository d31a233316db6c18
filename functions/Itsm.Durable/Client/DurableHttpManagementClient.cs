using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Itsm.Durable.Client;

/// <summary>
/// The values of a <c>durableClient</c> binding in the custom-handler protocol: task hub, connection,
/// the system key query string and the base URL of the extension's HTTP management API.
/// </summary>
public sealed record DurableClientBindingValue(string TaskHubName, string? ConnectionName, string RequiredQueryStringParameters, Uri HttpBaseUrl)
{
    /// <param name="json">The decoded binding value (JSON text).</param>
    /// <param name="websiteHostName">WEBSITE_HOSTNAME, used as the host does when <c>httpBaseUrl</c> is absent (older extensions).</param>
    public static DurableClientBindingValue Parse(string json, string? websiteHostName)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        string? Text(string name) =>
            root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        var baseUrl = Text("httpBaseUrl");
        if (string.IsNullOrEmpty(baseUrl))
        {
            if (string.IsNullOrEmpty(websiteHostName))
            {
                throw new FormatException("The durableClient binding has no httpBaseUrl and WEBSITE_HOSTNAME is not set.");
            }

            var scheme = websiteHostName.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase) ? "http" : "https";
            baseUrl = $"{scheme}://{websiteHostName}/runtime/webhooks/durabletask";
        }

        return new DurableClientBindingValue(
            Text("taskHubName") ?? throw new FormatException("The durableClient binding has no taskHubName."),
            Text("connectionName"),
            Text("requiredQueryStringParameters") ?? "",
            new Uri(baseUrl.TrimEnd('/') + "/"));
    }
}

/// <summary>
/// <see cref="IDurableClient"/> over the Durable extension's HTTP management API
/// (<c>/runtime/webhooks/durabletask</c>), as the durableClient binding describes it.
/// </summary>
public sealed class DurableHttpManagementClient(HttpClient http, DurableClientBindingValue binding) : IDurableClient
{
    public async Task<StartInstanceResult> StartNewAsync(string orchestratorName, string instanceId, object? input = null, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(instanceId);

        // The extension refuses or replaces an existing id depending on its state and version; asking first
        // makes a repeated start a no-op. Two callers racing on the same new id can still both reach the POST.
        if (await GetStatusAsync(instanceId, showInput: false, cancellationToken) is not null)
        {
            return new StartInstanceResult(instanceId, Created: false);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, Url($"orchestrators/{Uri.EscapeDataString(orchestratorName)}/{Uri.EscapeDataString(instanceId)}"))
        {
            Content = input is null ? null : JsonContent(DurableJson.Serialize(input)!),
        };
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode is not (HttpStatusCode.Accepted or HttpStatusCode.OK))
        {
            throw await ErrorAsync("start", response, cancellationToken);
        }

        return new StartInstanceResult(instanceId, Created: true);
    }

    public async Task<DurableClientOutcome> RaiseEventAsync(string instanceId, string eventName, object? data = null, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(instanceId);
        using var request = new HttpRequestMessage(HttpMethod.Post, Url($"instances/{Uri.EscapeDataString(instanceId)}/raiseEvent/{Uri.EscapeDataString(eventName)}"))
        {
            Content = JsonContent(DurableJson.Serialize(data) ?? "null"),
        };
        using var response = await http.SendAsync(request, cancellationToken);
        return await OutcomeAsync("raise event", response, cancellationToken);
    }

    public async Task<DurableInstanceStatus?> GetStatusAsync(string instanceId, bool showInput = true, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(instanceId);
        using var response = await http.GetAsync(Url($"instances/{Uri.EscapeDataString(instanceId)}", $"showInput={(showInput ? "true" : "false")}"), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Accepted))
        {
            throw await ErrorAsync("get status", response, cancellationToken);
        }

        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return ParseStatus(document.RootElement);
    }

    public async Task<DurableClientOutcome> TerminateAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(instanceId);
        using var response = await http.PostAsync(Url($"instances/{Uri.EscapeDataString(instanceId)}/terminate", "reason=" + Uri.EscapeDataString(reason ?? "")), content: null, cancellationToken);
        return await OutcomeAsync("terminate", response, cancellationToken);
    }

    public async Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(instanceId);
        using var response = await http.DeleteAsync(Url($"instances/{Uri.EscapeDataString(instanceId)}"), cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => true,
            HttpStatusCode.NotFound => false,
            _ => throw await ErrorAsync("purge", response, cancellationToken),
        };
    }

    internal static DurableInstanceStatus ParseStatus(JsonElement status)
    {
        string? Text(string name) => status.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        string? Json(string name) => status.TryGetProperty(name, out var v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined) ? v.GetRawText() : null;
        DateTimeOffset Time(string name) =>
            DateTimeOffset.TryParse(Text(name), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : DateTimeOffset.MinValue;

        return new DurableInstanceStatus(
            Text("instanceId") ?? "",
            Text("name") ?? "",
            Text("runtimeStatus") ?? "Unknown",
            Json("input"),
            Json("output"),
            Json("customStatus"),
            Time("createdTime"),
            Time("lastUpdatedTime"));
    }

    private Uri Url(string path, string? query = null)
    {
        var parameters = new List<string>();
        if (!string.IsNullOrEmpty(query))
        {
            parameters.Add(query);
        }

        parameters.Add("taskHub=" + Uri.EscapeDataString(binding.TaskHubName));
        if (!string.IsNullOrEmpty(binding.ConnectionName))
        {
            parameters.Add("connection=" + Uri.EscapeDataString(binding.ConnectionName));
        }

        if (!string.IsNullOrEmpty(binding.RequiredQueryStringParameters))
        {
            parameters.Add(binding.RequiredQueryStringParameters.TrimStart('?'));
        }

        return new Uri(binding.HttpBaseUrl, path + "?" + string.Join("&", parameters));
    }

    private static async Task<DurableClientOutcome> OutcomeAsync(string operation, HttpResponseMessage response, CancellationToken cancellationToken) =>
        response.StatusCode switch
        {
            HttpStatusCode.Accepted or HttpStatusCode.OK => DurableClientOutcome.Accepted,
            HttpStatusCode.NotFound => DurableClientOutcome.NotFound,
            HttpStatusCode.Gone => DurableClientOutcome.InstanceCompleted,
            _ => throw await ErrorAsync(operation, response, cancellationToken),
        };

    private static async Task<DurableClientException> ErrorAsync(string operation, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return new DurableClientException($"The Durable management API refused to {operation}: {(int)response.StatusCode} {body[..Math.Min(body.Length, 500)]}");
    }

    private static StringContent JsonContent(string json) => new(json, Encoding.UTF8, "application/json");

    private static void ThrowIfInvalid(string instanceId)
    {
        if (InstanceIds.Validate(instanceId) is { } error)
        {
            throw new ArgumentException(error, nameof(instanceId));
        }
    }
}

public sealed class DurableClientException(string message) : Exception(message);
