using System.Net;
using System.Text;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Microsoft.AspNetCore.WebUtilities;

namespace Itsm.Functions.Approvals;

/// <summary>
/// The small approval page a prompt links to. GET only shows (mail scanners prefetch links, so it never decides);
/// POST decides, and only for the person the link was sent to, signed in: in Azure through App Service Authentication
/// (the browser signs in with the work account; the platform's principal header names them), or with a bearer token in
/// the Authorization header, or (standalone, where no sign-in page exists) a dev token pasted into the form.
/// </summary>
public static class ApprovalPage
{
    public static async Task<HttpResponseOutput> ShowAsync(HttpFunctionContext http)
    {
        var token = http.Request.QueryValue("t");
        var (record, failure) = await OpenAsync(http, token);
        if (failure is not null)
        {
            return failure;
        }

        var (claims, approval) = record!.Value;
        var (_, refusal) = ApprovalRules.CheckAnswer(approval, claims.Recipient, claims.Level, claims.LinkId);
        var body = new StringBuilder();
        Summary(body, approval);
        if (refusal is not null)
        {
            body.Append("<p class=\"notice\" id=\"status\">").Append(E(refusal.Title)).Append(' ').Append(E(refusal.Detail)).Append("</p>");
            return Html(200, "Approval", body.ToString());
        }

        var level = approval.Levels[claims.Level];
        var auth = http.Services.GetRequiredService<AuthOptions>();
        var platform = PlatformPrincipal.Read(http.Request.Header(PlatformPrincipal.Header), auth);
        if (auth.PlatformAuthenticationEnabled && !platform.Succeeded)
        {
            body.Append("<p id=\"status\">Sign in with your work account to answer.</p>")
                .Append("<p><a id=\"sign-in\" class=\"button\" href=\"").Append(E(PlatformPrincipal.LoginPath(ReturnPath(token!)))).Append("\">Sign in</a></p>");
            return Html(200, $"Approve {approval.SubjectNumber}?", body.ToString());
        }

        body.Append("<form method=\"post\" action=\"").Append(ApprovalLinks.PagePath).Append("\">")
            .Append("<input type=\"hidden\" name=\"t\" value=\"").Append(E(token!)).Append("\">")
            .Append("<p>Level <b>").Append(E(level.Name)).Append("</b> · you answer as <b>").Append(E(claims.Recipient)).Append("</b>")
            .Append(claims.Recipient == claims.Approver ? "" : $" on behalf of <b>{E(claims.Approver)}</b>").Append("</p>")
            .Append("<label for=\"comment\">Comment (optional)</label><textarea id=\"comment\" name=\"comment\" maxlength=\"2000\" rows=\"3\"></textarea>")
            .Append(platform.Succeeded
                ? $"<p id=\"signed-in\">Signed in as {E(platform.Caller!.Name ?? platform.Caller.Email ?? platform.Caller.UserId)}</p>"
                : "<label for=\"access_token\">Sign-in token</label><input id=\"access_token\" name=\"access_token\" type=\"password\" autocomplete=\"off\" placeholder=\"Standalone: paste your dev token\">")
            .Append("<div class=\"buttons\"><button name=\"decision\" value=\"approve\" id=\"approve\" class=\"approve\">Approve</button>")
            .Append("<button name=\"decision\" value=\"reject\" id=\"reject\" class=\"reject\">Reject</button></div></form>");
        return Html(200, $"Approve {approval.SubjectNumber}?", body.ToString());
    }

    public static async Task<HttpResponseOutput> DecideAsync(HttpFunctionContext http)
    {
        var form = QueryHelpers.ParseQuery(http.Request.Body ?? "");
        string? Field(string name) => form.TryGetValue(name, out var values) && values.Count == 1 ? values[0] : null;
        var token = Field("t");
        var (record, failure) = await OpenAsync(http, token);
        if (failure is not null)
        {
            return failure;
        }

        var (claims, approval) = record!.Value;
        var verdict = Field("decision") switch
        {
            "approve" => ApprovalVerdict.Approve,
            "reject" => ApprovalVerdict.Reject,
            _ => (ApprovalVerdict?)null,
        };
        var comment = Field("comment");
        if (verdict is null || comment?.Length > 2000)
        {
            return Html(400, "Not recorded", "<p class=\"notice\" id=\"status\">Choose Approve or Reject (a comment has at most 2000 characters). Nothing was recorded.</p>");
        }

        var header = http.Request.Header("Authorization");
        var pasted = Field("access_token");
        var authorization = !string.IsNullOrWhiteSpace(header) ? header : string.IsNullOrWhiteSpace(pasted) ? null : "Bearer " + pasted.Trim();
        var auth = http.Services.GetRequiredService<AuthOptions>();
        var signIn = authorization is null && auth.PlatformAuthenticationEnabled
            ? PlatformPrincipal.Read(http.Request.Header(PlatformPrincipal.Header), auth)
            : await http.Services.GetRequiredService<ICallerAuthenticator>().AuthenticateAsync(authorization, http.CancellationToken);
        if (!signIn.Succeeded)
        {
            return Html(401, "Sign-in required", $"<p class=\"notice\" id=\"status\">{SignInAdvice(auth, authorization, signIn.Failure, token!)} Nothing was recorded.</p>");
        }

        if (signIn.Caller!.UserId != claims.Recipient || signIn.Caller.TenantId != claims.TenantId)
        {
            return Html(403, "Not your link", "<p class=\"notice\" id=\"status\">This link was sent to someone else; your answer changes nothing.</p>");
        }

        var decisions = http.Services.GetRequiredService<ApprovalDecisions>();
        var (after, refusal) = await decisions.AnswerAsync(claims.TenantId, claims.ApprovalId, claims.Recipient, verdict.Value, "page", string.IsNullOrWhiteSpace(comment) ? null : comment.Trim(), claims.Level, claims.LinkId, http.DurableClient(), http.CancellationToken);
        if (refusal is not null)
        {
            return Html(refusal.Status, refusal.Title, $"<p class=\"notice\" id=\"status\">{E(refusal.Title)} {E(refusal.Detail)}</p>");
        }

        var body = new StringBuilder();
        Summary(body, after ?? approval);
        body.Append("<p class=\"done\" id=\"status\">Thank you: your ").Append(verdict == ApprovalVerdict.Approve ? "approval" : "rejection")
            .Append(" of ").Append(E(approval.SubjectNumber)).Append(" is recorded.</p>");
        return Html(200, "Answer recorded", body.ToString());
    }

    private static async Task<((ApprovalLinkClaims Claims, ApprovalRecord Record)? Record, HttpResponseOutput? Failure)> OpenAsync(HttpFunctionContext http, string? token)
    {
        var (check, claims) = http.Services.GetRequiredService<ApprovalLinks>().Verify(token);
        switch (check)
        {
            case LinkCheck.Malformed or LinkCheck.BadSignature:
                return (null, Html(400, "Invalid link", "<p class=\"notice\" id=\"status\">This approval link is not valid (it may have been altered). Open the link from your prompt again.</p>"));
            case LinkCheck.Expired:
                return (null, Html(410, "Link expired", "<p class=\"notice\" id=\"status\">This approval link has expired. Nothing was recorded.</p>"));
        }

        var stored = await http.Services.GetRequiredService<ApprovalStore>().ReadAsync(claims!.TenantId, claims.ApprovalId, http.CancellationToken);
        return stored is null
            ? (null, Html(404, "Not found", "<p class=\"notice\" id=\"status\">This approval no longer exists.</p>"))
            : ((claims, stored.Document), null);
    }

    private static void Summary(StringBuilder body, ApprovalRecord approval)
    {
        var isChange = approval.SubjectType == nameof(Tickets.TicketType.Change);
        body.Append("<h1>").Append(E(approval.SubjectNumber)).Append(": ").Append(E(approval.Title)).Append("</h1>")
            .Append("<dl><dt>Type</dt><dd id=\"type\">").Append(E(ApprovalSubjects.Describe(approval))).Append("</dd>");
        if (approval.Category is { Length: > 0 } category)
        {
            body.Append("<dt>").Append(isChange ? "Category" : "Item").Append("</dt><dd id=\"category\">").Append(E(category)).Append("</dd>");
        }

        if (isChange)
        {
            body.Append("<dt>Planned</dt><dd>").Append(approval.PlannedStart is { } s ? E($"{s:yyyy-MM-dd HH:mm} to {approval.PlannedEnd:yyyy-MM-dd HH:mm} UTC") : "not scheduled").Append("</dd>")
                .Append("<dt>Risk</dt><dd id=\"risk\">").Append(E($"{approval.Risk.Level} ({approval.Risk.Score})")).Append("</dd>");
        }

        body.Append("<dt>Policy</dt><dd>").Append(E(approval.PolicyName)).Append("</dd>")
            .Append("<dt>State</dt><dd id=\"state\">").Append(E(approval.State.ToString())).Append("</dd></dl>");
        if (approval.Summary is { Length: > 0 } summary)
        {
            body.Append("<p>").Append(E(summary)).Append("</p>");
        }

        if (!isChange)
        {
            return;
        }

        body.Append("<h2>Conflicts</h2>");
        if (approval.Conflicts.Count == 0)
        {
            body.Append("<p id=\"conflicts\">None found.</p>");
        }
        else
        {
            body.Append("<ul id=\"conflicts\">");
            foreach (var conflict in approval.Conflicts)
            {
                body.Append("<li><b>").Append(E(conflict.Rule.ToString())).Append("</b>: ").Append(E(conflict.Detail)).Append("</li>");
            }

            body.Append("</ul>");
        }
    }

    private static HttpResponseOutput Html(int status, string title, string body) => HtmlPage.Render(status, title, body);

    private static string E(string text) => WebUtility.HtmlEncode(text);

    /// <summary>What a person in a browser can do to sign in: never "send a header", which only API clients can.</summary>
    private static string SignInAdvice(AuthOptions auth, string? authorization, string? failure, string token)
    {
        if (auth.PlatformAuthenticationEnabled && authorization is null)
        {
            return $"Sign in with your work account to answer: <a id=\"sign-in\" href=\"{E(PlatformPrincipal.LoginPath(ReturnPath(token)))}\">Sign in</a>, then answer again.";
        }

        var retry = auth.PlatformAuthenticationEnabled
            ? $" <a id=\"sign-in\" href=\"{E(PlatformPrincipal.LoginPath(ReturnPath(token)))}\">Sign in</a> and answer again."
            : " Go back, paste a valid token into <b>Sign-in token</b> and answer again (standalone, <code>token mint --user &lt;you&gt;</code> prints one).";
        return authorization is null
            ? $"Sign in to answer: paste your sign-in token into the <b>Sign-in token</b> field.{retry}"
            : $"Your sign-in was not accepted: {E(BrowserReason(failure))}.{retry}";
    }

    private static string BrowserReason(string? failure) =>
        failure is null || failure.Contains("Authorization", StringComparison.Ordinal) || failure.Contains("bearer token is not", StringComparison.OrdinalIgnoreCase)
            ? "the sign-in token is not a valid token"
            : failure.TrimEnd('.');

    private static string ReturnPath(string token) => $"{ApprovalLinks.PagePath}?t={Uri.EscapeDataString(token)}";
}
