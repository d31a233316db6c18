using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Itsm.Functions.Approvals;
using Itsm.Functions.Hosting;

namespace Itsm.Functions.Tickets;

/// <summary>What a ticket page link carries: the ticket and when the link stops working.</summary>
public sealed record TicketPageClaims(
    [property: JsonPropertyName("tid")] string TenantId,
    [property: JsonPropertyName("tkt")] string TicketId,
    [property: JsonPropertyName("exp")] long ExpiresAt);

/// <summary>
/// Links to a ticket's page, for people who raised it outside the API (a Teams message): signed with the app's link key
/// (<see cref="ApprovalLinks.Sign"/>, purpose <c>ticket-page</c>) and absolute (<see cref="PublicAddress"/>), so the
/// link in a Teams reply opens in a browser without signing in and shows only what the requester may see.
/// </summary>
public sealed class TicketPageLinks(ApprovalLinks signer, PublicAddress address, TimeProvider time)
{
    public const string Purpose = "ticket-page";
    public const string PagePath = "/api/ticket-page";
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(90);

    public string Create(string tenantId, string ticketId)
    {
        var claims = new TicketPageClaims(tenantId, ticketId, time.GetUtcNow().Add(Lifetime).ToUnixTimeSeconds());
        return address.Link($"{PagePath}?t={Uri.EscapeDataString(signer.Sign(Purpose, JsonSerializer.SerializeToUtf8Bytes(claims)))}");
    }

    /// <summary>The claims of a valid link; null with the answer to give when it is altered or expired.</summary>
    public (TicketPageClaims? Claims, HttpResponseOutput? Failure) Open(string? token)
    {
        TicketPageClaims? claims = null;
        try
        {
            claims = signer.Open(Purpose, token) is { } json ? JsonSerializer.Deserialize<TicketPageClaims>(json) : null;
        }
        catch (JsonException)
        {
        }

        if (claims is null || string.IsNullOrEmpty(claims.TenantId) || string.IsNullOrEmpty(claims.TicketId))
        {
            return (null, HtmlPage.Render(400, "Invalid link", "<p class=\"notice\" id=\"status\">This link is not valid (it may have been altered). Open it again from the message you received.</p>"));
        }

        return time.GetUtcNow().ToUnixTimeSeconds() >= claims.ExpiresAt
            ? (null, HtmlPage.Render(410, "Link expired", "<p class=\"notice\" id=\"status\">This link has expired. Ask the service desk about your request.</p>"))
            : (claims, null);
    }
}

/// <summary>The ticket page: number, title, state and dates of one ticket, as its requester may see them; it never changes anything.</summary>
public static class TicketStatusPage
{
    public static async Task<HttpResponseOutput> ShowAsync(HttpFunctionContext http)
    {
        var (claims, failure) = http.Services.GetRequiredService<TicketPageLinks>().Open(http.Request.QueryValue("t"));
        if (failure is not null)
        {
            return failure;
        }

        var stored = await http.Services.GetRequiredService<TicketStore>().ReadAsync(claims!.TenantId, claims.TicketId, http.CancellationToken);
        if (stored is null)
        {
            // A Teams message is queued before its ticket is written: the link may be opened first.
            return HtmlPage.Render(200, "Your request", "<h1>Your request</h1><p class=\"notice\" id=\"status\">Your request is being registered. Refresh this page in a moment to see its number and state.</p>");
        }

        var ticket = stored.Document;
        var body = new StringBuilder()
            .Append("<h1>").Append(E(ticket.Number)).Append(": ").Append(E(ticket.Title)).Append("</h1>")
            .Append("<dl><dt>State</dt><dd id=\"state\">").Append(E(StateInWords(ticket))).Append("</dd>")
            .Append("<dt>Raised</dt><dd>").Append(E(Instant(ticket.CreatedAt))).Append("</dd>")
            .Append("<dt>Last change</dt><dd>").Append(E(Instant(ticket.UpdatedAt))).Append("</dd>");
        if (ticket.Resolution is { } resolution && ticket.State is TicketState.Resolved or TicketState.Closed)
        {
            body.Append("<dt>Resolution</dt><dd id=\"resolution\">").Append(E(resolution.Notes)).Append("</dd>");
        }

        body.Append("</dl><p>You are told of each step as it happens. This page only shows the request.</p>");
        return HtmlPage.Render(200, $"{ticket.Number}: {ticket.Title}", body.ToString());
    }

    private static string StateInWords(Ticket ticket) => ticket.State switch
    {
        TicketState.New => "Received, not yet taken",
        TicketState.InProgress => "Being worked on",
        TicketState.OnHold when ticket.HoldReason == HoldReason.AwaitingApproval => "Waiting for approval",
        TicketState.OnHold when ticket.HoldReason == HoldReason.AwaitingCaller => "Waiting for your answer",
        TicketState.OnHold => "On hold",
        TicketState.Resolved => "Resolved",
        TicketState.Closed => "Closed",
        TicketState.Cancelled => "Cancelled",
        _ => ticket.State.ToString(),
    };

    private static string Instant(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
