using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Hosting;
using Microsoft.Extensions.Options;

namespace Itsm.Functions.Intake;

/// <summary>
/// The endpoints outside callers hit (Graph change notifications, Teams outgoing webhooks, Azure Monitor alerts).
/// They carry no bearer token: each verifies its caller itself (clientState, HMAC, token), answers at once, and
/// hands the work to the <c>intake</c> Storage queue through the function's queue output binding, so a spike never loses input.
/// </summary>
public static partial class IntakeWebhooks
{
    /// <summary>
    /// Graph change notifications for intake mailboxes. The subscription handshake echoes <c>validationToken</c>; every
    /// notification must carry the clientState of a configured mailbox (compared in constant time), else it is dropped,
    /// and a request with none valid gets 401. Valid ones are enqueued for fetching; Graph gets 202 at once.
    /// </summary>
    public static Task<(HttpResponseOutput, IReadOnlyList<string>)> GraphNotificationsAsync(HttpFunctionContext http)
    {
        if (http.Request.QueryValue("validationToken") is { } token)
        {
            var echo = token.Length > 1024 ? token[..1024] : token;
            return Done(new HttpResponseOutput(200, new Dictionary<string, string> { ["Content-Type"] = "text/plain; charset=utf-8" }, echo));
        }

        var options = http.Services.GetRequiredService<IOptions<IntakeOptions>>().Value;
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(http.Request.Body ?? "").RootElement;
        }
        catch (JsonException)
        {
            return Done(HttpResults.Problem(400, "Not a change notification.", "The body is not JSON."));
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Array)
        {
            return Done(HttpResults.Problem(400, "Not a change notification.", "Expected an object with a 'value' array."));
        }

        var messages = new List<string>();
        var forged = 0;
        foreach (var notification in value.EnumerateArray())
        {
            var clientState = Text(notification, "clientState");
            var source = options.Sources.FirstOrDefault(s => s.Secret is { Length: > 0 } secret && clientState is not null && FixedTimeEquals(secret, clientState));
            var messageId = notification.TryGetProperty("resourceData", out var data) ? Text(data, "id") : null;
            if (source is null || messageId is null)
            {
                forged++;
                continue;
            }

            messages.Add(JsonSerializer.Serialize(new GraphMailWork(GraphMailWork.TypeName, source.Name, messageId), HttpResults.Json));
        }

        return messages.Count == 0 && forged > 0
            ? Done(HttpResults.Problem(401, "Unknown clientState.", "No notification carried the clientState of a configured mailbox."))
            : Task.FromResult<(HttpResponseOutput, IReadOnlyList<string>)>((new HttpResponseOutput(202, new Dictionary<string, string>(), null), messages));
    }

    /// <summary>
    /// A Teams outgoing webhook (<c>/api/intake/teams/{source}</c>): the <c>Authorization: HMAC ...</c> header must be the
    /// HMAC-SHA256 of the body under the source's secret. The reply names the ticket's link; its number follows by notification.
    /// </summary>
    public static Task<(HttpResponseOutput, IReadOnlyList<string>)> TeamsAsync(HttpFunctionContext http)
    {
        var options = http.Services.GetRequiredService<IOptions<IntakeOptions>>().Value;
        var source = options.Find(http.Request.RouteValue("source"));
        var body = http.Request.Body ?? "";
        if (source?.Secret is not { Length: > 0 } secret || !TeamsSignatureValid(secret, body, http.Request.Header("Authorization")))
        {
            return Done(HttpResults.Problem(401, "Bad signature.", "The HMAC signature does not match this webhook's secret."));
        }

        JsonElement activity;
        try
        {
            activity = JsonDocument.Parse(body).RootElement;
        }
        catch (JsonException)
        {
            return Done(HttpResults.Problem(400, "Not a Teams activity.", "The body is not JSON."));
        }

        var id = activity.ValueKind == JsonValueKind.Object ? Text(activity, "id") : null;
        // The bot's own @mention (<at>name</at>) is not part of the request.
        var text = MailText.HtmlToText(Mention().Replace(activity.ValueKind == JsonValueKind.Object ? Text(activity, "text") ?? "" : "", ""));
        var from = activity.ValueKind == JsonValueKind.Object && activity.TryGetProperty("from", out var f) && f.ValueKind == JsonValueKind.Object ? f : default;
        var sender = from.ValueKind == JsonValueKind.Object ? Text(from, "aadObjectId") ?? Text(from, "id") : null;
        if (id is null || sender is null || text.Length == 0)
        {
            return Done(HttpResults.Problem(400, "Not a Teams message.", "A message activity needs 'id', 'from' and 'text'."));
        }

        var request = text;
        var firstLine = request.Split('\n')[0];
        var message = new IntakeMessage("teams", id, sender, firstLine.Length > 200 ? firstLine[..200] : firstLine, request, http.Services.GetRequiredService<TimeProvider>().GetUtcNow())
        {
            Source = source.Name,
            SenderName = from.ValueKind == JsonValueKind.Object ? Text(from, "name") : null,
            TicketReference = MailThreading.TicketTag(request),
        };
        var ticketId = IntakeIds.Hash($"ticket|{source.TenantId}|teams|{id}");

        // A page a browser shows (the API route would answer 401): signed, absolute, at the app's public address.
        var link = http.Services.GetRequiredService<Tickets.TicketPageLinks>().Create(source.TenantId, ticketId);
        var reply = HttpResults.Ok(new { type = "message", text = $"Thanks, your request is registered: {link} (the ticket number follows in a notification)." });
        return Task.FromResult<(HttpResponseOutput, IReadOnlyList<string>)>((reply, [JsonSerializer.Serialize(message, HttpResults.Json)]));
    }

    /// <summary>
    /// Azure Monitor's common alert schema (<c>/api/intake/alerts/{source}?token=...</c>, or the token in
    /// <c>X-Itsm-Alert-Token</c>). Other schemas are refused with 400 and their reason.
    /// </summary>
    public static Task<(HttpResponseOutput, IReadOnlyList<string>)> AlertsAsync(HttpFunctionContext http)
    {
        var options = http.Services.GetRequiredService<IOptions<IntakeOptions>>().Value;
        var source = options.Find(http.Request.RouteValue("source"));
        var token = http.Request.Header("X-Itsm-Alert-Token") ?? http.Request.QueryValue("token");
        if (source?.Secret is not { Length: > 0 } secret || token is null || !FixedTimeEquals(secret, token))
        {
            return Done(HttpResults.Problem(401, "Not authorised.", "The alert endpoint's token is missing or wrong."));
        }

        var parsed = AzureMonitorAlert.Parse(http.Request.Body, source.Name, http.Services.GetRequiredService<TimeProvider>().GetUtcNow());
        return parsed.Error is { } error
            ? Done(HttpResults.ValidationProblem(error))
            : Task.FromResult<(HttpResponseOutput, IReadOnlyList<string>)>((new HttpResponseOutput(202, new Dictionary<string, string>(), null), [JsonSerializer.Serialize(parsed.Message, HttpResults.Json)]));
    }

    public static bool TeamsSignatureValid(string base64Secret, string body, string? authorization)
    {
        if (authorization is null || !authorization.StartsWith("HMAC ", StringComparison.Ordinal))
        {
            return false;
        }

        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64Secret);
        }
        catch (FormatException)
        {
            return false;
        }

        var expected = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(body));
        Span<byte> given = stackalloc byte[64];
        return Convert.TryFromBase64String(authorization[5..].Trim(), given, out var written)
            && CryptographicOperations.FixedTimeEquals(expected, given[..written]);
    }

    [System.Text.RegularExpressions.GeneratedRegex("<at>.*?</at>", System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex Mention();

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static Task<(HttpResponseOutput, IReadOnlyList<string>)> Done(HttpResponseOutput response) =>
        Task.FromResult<(HttpResponseOutput, IReadOnlyList<string>)>((response, []));
}

/// <summary>Queued work for a Graph mail notification: fetch the message, then process it as intake.</summary>
public sealed record GraphMailWork(string Type, string Source, string MessageId)
{
    public const string TypeName = "graph-mail";
}
