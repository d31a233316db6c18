using System.Net;
using System.Text;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Azure.Functions.Worker;

namespace Itsm.Functions.Surveys;

/// <summary>Satisfaction surveys: the page a requester answers on, the results, the settings, the reminder sweep.</summary>
public sealed class SurveyFunctions(HttpEndpoint http)
{
    [Function("SurveyPage_Show")]
    [ApiDoc("The survey page a resolved ticket's requester opens from the invitation (signed, expiring, single-use link). Shows only; never records.")]
    public Task<IResult> SurveyPageShow([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "survey-page")] HttpRequest req) =>
        http.PublicAsync(req, SurveyPage.ShowAsync);

    [Function("SurveyPage_Answer")]
    [ApiDoc("Records the answer posted from the survey page (form: t, rating 1-5, comment).")]
    public Task<IResult> SurveyPageAnswer([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "survey-page")] HttpRequest req) =>
        http.PublicAsync(req, SurveyPage.AnswerAsync);

    [Function("Surveys_Results")]
    [ApiDoc("Survey results (agents): ?groupBy=agent|group|service|period, period=day|week|month, from, to (invitation instants).", QueryParameters = ["groupBy", "period", "from", "to"])]
    public Task<IResult> SurveysResults([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "surveys/results")] HttpRequest req) =>
        http.ApiAsync(req, ResultsAsync);

    [Function("Tickets_Survey")]
    [ApiDoc("The ticket's satisfaction survey: state, rating and comment (agents, and the requester).")]
    public Task<IResult> TicketsSurvey([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tickets/{id}/survey")] HttpRequest req) =>
        http.ApiAsync(req, TicketSurveyAsync);

    [Function("Admin_GetSurveySettings")]
    [ApiDoc("The tenant's survey settings (admins): enabled, ticketTypes, expiryDays, reminderAfterDays.")]
    public Task<IResult> AdminGetSurveySettings([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "manage/surveys/settings")] HttpRequest req) =>
        http.ApiAsync(req, GetSettingsAsync);

    [Function("Admin_PutSurveySettings")]
    [ApiDoc("Replace the tenant's survey settings (admins).")]
    public Task<IResult> AdminPutSurveySettings([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "manage/surveys/settings")] HttpRequest req) =>
        http.ApiAsync(req, PutSettingsAsync);

    private static async Task<HttpResponseOutput> GetSettingsAsync(ApiContext api) =>
        api.Caller.IsAdmin
            ? HttpResults.Ok(await api.Services.GetRequiredService<SurveyStore>().SettingsAsync(api.Caller.TenantId, api.CancellationToken))
            : ApiFunctions.Forbidden("Survey settings are for admins.");

    private static async Task<HttpResponseOutput> PutSettingsAsync(ApiContext api)
    {
        if (!api.Caller.IsAdmin)
        {
            return ApiFunctions.Forbidden("Survey settings are for admins.");
        }

        var body = JsonBodyReader.Parse(api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var enabled = body.Bool("enabled");
        if (!body.Has("enabled"))
        {
            body.AddError("enabled", "is required: true or false.");
        }

        var types = body.StringList("ticketTypes", 4, 20);
        var parsed = new List<TicketType>();
        for (var i = 0; i < (types?.Count ?? 0); i++)
        {
            if (Enum.TryParse<TicketType>(types![i], ignoreCase: false, out var type) && !int.TryParse(types[i], out _))
            {
                parsed.Add(type);
            }
            else
            {
                body.AddError($"ticketTypes[{i}]", $"must be one of: {string.Join(", ", Enum.GetNames<TicketType>())}.");
            }
        }

        var expiry = body.Int("expiryDays", 1, 90) ?? 14;
        var reminder = body.Int("reminderAfterDays", 0, 89) ?? 3;
        if (reminder >= expiry && reminder > 0)
        {
            body.AddError("reminderAfterDays", "must be less than expiryDays (or 0 for no reminder).");
        }

        body.RejectUnknown();
        if (body.HasErrors)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        var settings = new SurveySettings
        {
            TenantId = api.Caller.TenantId,
            Enabled = enabled!.Value,
            TicketTypes = types is null ? [TicketType.Incident, TicketType.ServiceRequest] : parsed,
            ExpiryDays = expiry,
            ReminderAfterDays = reminder,
        };
        await api.Services.GetRequiredService<SurveyStore>().PutSettingsAsync(settings, api.CancellationToken);
        return HttpResults.Ok(settings);
    }

    private static async Task<HttpResponseOutput> ResultsAsync(ApiContext api)
    {
        if (!api.Caller.IsAgent)
        {
            return ApiFunctions.Forbidden("Survey results are for agents and admins.");
        }

        var errors = new Dictionary<string, string[]>();
        var groupText = api.Request.QueryValue("groupBy") ?? "period";
        if (!Enum.TryParse<SurveyGrouping>(groupText, ignoreCase: true, out var grouping) || int.TryParse(groupText, out _))
        {
            errors["groupBy"] = ["must be agent, group, service or period."];
        }

        var period = api.Request.QueryValue("period") ?? "month";
        if (period is not ("day" or "week" or "month"))
        {
            errors["period"] = ["must be day, week or month."];
        }

        DateTimeOffset? Instant(string name)
        {
            if (api.Request.QueryValue(name) is not { Length: > 0 } text)
            {
                return null;
            }

            if (DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var value))
            {
                return value.ToUniversalTime();
            }

            errors[name] = ["must be an ISO 8601 instant, e.g. 2026-03-01T00:00:00Z."];
            return null;
        }

        var from = Instant("from");
        var to = Instant("to");
        if (from is not null && to is not null && to <= from)
        {
            errors["to"] = ["must be after from."];
        }

        if (errors.Count > 0)
        {
            return HttpResults.ValidationProblem(errors);
        }

        var filters = new List<QueryFilter>();
        if (from is { } f)
        {
            filters.Add(new QueryFilter("invitedAt", FilterOperator.GreaterThanOrEqual, f));
        }

        if (to is { } t)
        {
            filters.Add(new QueryFilter("invitedAt", FilterOperator.LessThan, t));
        }

        var store = api.Services.GetRequiredService<SurveyStore>();
        var surveys = new List<Survey>();
        string? continuation = null;
        do
        {
            var page = await store.QueryAsync(api.Caller.TenantId, filters, new QuerySort("invitedAt", false), 500, continuation, api.CancellationToken);
            surveys.AddRange(page.Items.Select(i => i.Document));
            continuation = page.ContinuationToken;
        }
        while (continuation is not null);

        return HttpResults.Ok(new
        {
            groupBy = grouping.ToString().ToLowerInvariant(),
            period,
            from,
            to,
            total = SurveyRules.Row("total", surveys),
            rows = SurveyRules.Aggregate(surveys, grouping, period),
        });
    }

    private static async Task<HttpResponseOutput> TicketSurveyAsync(ApiContext api)
    {
        var id = api.Request.RouteValue("id") ?? "";
        var ticket = await api.Services.GetRequiredService<TicketStore>().ReadAsync(api.Caller.TenantId, id, api.CancellationToken);
        if (ticket is null || !(api.Caller.IsAgent || ticket.Document.Requester.Id == api.Caller.UserId))
        {
            return ApiFunctions.NotFound($"Ticket '{id}'");
        }

        var survey = await api.Services.GetRequiredService<SurveyStore>().ReadAsync(api.Caller.TenantId, id, api.CancellationToken);
        return survey is null
            ? ApiFunctions.NotFound($"A survey of ticket '{id}'")
            : HttpResults.Ok(new { ticketId = id, survey.Document.State, survey.Document.Rating, survey.Document.Comment, survey.Document.InvitedAt, survey.Document.ExpiresAt, survey.Document.AnsweredAt });
    }
}

/// <summary>
/// The survey page. The signed link is the requester's authority to answer: it names the ticket and the requester,
/// expires, and works once (the survey records its answer). Unlike an approval, a rating decides nothing, so no
/// sign-in is asked for. GET only shows (mail scanners prefetch links); POST records.
/// </summary>
public static class SurveyPage
{
    public static async Task<HttpResponseOutput> ShowAsync(HttpFunctionContext http)
    {
        var token = http.Request.QueryValue("t");
        var (survey, failure) = await OpenAsync(http, token);
        if (failure is not null)
        {
            return failure;
        }

        var body = new StringBuilder();
        Summary(body, survey!);
        body.Append("<form method=\"post\" action=\"").Append(SurveyLinks.PagePath).Append("\">")
            .Append("<input type=\"hidden\" name=\"t\" value=\"").Append(E(token!)).Append("\">")
            .Append("<fieldset id=\"rating\"><legend>How satisfied are you with the help you got?</legend><div class=\"buttons\">");
        foreach (var (value, label) in new[] { (1, "Very poor"), (2, "Poor"), (3, "OK"), (4, "Good"), (5, "Excellent") })
        {
            body.Append("<label class=\"star\"><input type=\"radio\" name=\"rating\" id=\"rating-").Append(value).Append("\" value=\"").Append(value)
                .Append("\" required><span>").Append(value).Append("</span><small>").Append(label).Append("</small></label>");
        }

        body.Append("</div></fieldset>")
            .Append("<label for=\"comment\">Comment (optional)</label><textarea id=\"comment\" name=\"comment\" maxlength=\"").Append(SurveyRules.MaxComment).Append("\" rows=\"3\"></textarea>")
            .Append("<div class=\"buttons\"><button id=\"submit\" class=\"approve\">Send</button></div></form>");
        return HtmlPage.Render(200, $"Rate {survey!.TicketNumber}", body.ToString());
    }

    public static async Task<HttpResponseOutput> AnswerAsync(HttpFunctionContext http)
    {
        var form = QueryHelpers.ParseQuery(http.Request.Body ?? "");
        string? Field(string name) => form.TryGetValue(name, out var values) && values.Count == 1 ? values[0] : null;
        var token = Field("t");
        var (survey, failure) = await OpenAsync(http, token);
        if (failure is not null)
        {
            return failure;
        }

        var comment = Field("comment");
        if (!int.TryParse(Field("rating"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var rating) || rating is < 1 or > 5
            || comment?.Length > SurveyRules.MaxComment || (comment is not null && TextRules.ControlCharacterProblem(comment, multiLine: true) is not null))
        {
            return Notice(400, "Not recorded", $"Choose a rating from 1 to 5 (a comment has at most {SurveyRules.MaxComment} characters). Nothing was recorded.");
        }

        var store = http.Services.GetRequiredService<SurveyStore>();
        var time = http.Services.GetRequiredService<TimeProvider>();
        var claims = http.Services.GetRequiredService<SurveyLinks>().Open(token)!;
        var stored = (await store.ReadAsync(claims.TenantId, claims.SurveyId, http.CancellationToken))!;
        if (SurveyRules.Refusal(stored.Document, claims.LinkId, time.GetUtcNow()) is { } refusal)
        {
            return Notice(409, "Not recorded", refusal);
        }

        try
        {
            await store.Documents.ReplaceAsync(SurveyStore.Surveys, stored.Key, SurveyRules.Answer(stored.Document, rating, comment, time.GetUtcNow()), stored.ETag, http.CancellationToken);
        }
        catch (PreconditionFailedException)
        {
            // Answered (or expired) a moment ago through the same link: single use.
            return Notice(409, "Not recorded", "This survey is already answered; thank you.");
        }

        var body = new StringBuilder();
        Summary(body, stored.Document);
        body.Append("<p class=\"done\" id=\"status\">Thank you: your rating of ").Append(rating).Append(" out of 5 for ").Append(E(stored.Document.TicketNumber)).Append(" is recorded.</p>");
        return HtmlPage.Render(200, "Thank you", body.ToString());
    }

    private static async Task<(Survey? Survey, HttpResponseOutput? Failure)> OpenAsync(HttpFunctionContext http, string? token)
    {
        var claims = http.Services.GetRequiredService<SurveyLinks>().Open(token);
        if (claims is null)
        {
            return (null, Notice(400, "Invalid link", "This survey link is not valid (it may have been altered). Open the link from your mail again."));
        }

        var time = http.Services.GetRequiredService<TimeProvider>();
        if (time.GetUtcNow().ToUnixTimeSeconds() >= claims.ExpiresAt)
        {
            return (null, Notice(410, "Link expired", "This survey has expired. Nothing was recorded."));
        }

        var stored = await http.Services.GetRequiredService<SurveyStore>().ReadAsync(claims.TenantId, claims.SurveyId, http.CancellationToken);
        if (stored is null)
        {
            return (null, Notice(404, "Not found", "This survey no longer exists."));
        }

        return SurveyRules.Refusal(stored.Document, claims.LinkId, time.GetUtcNow()) is { } refusal
            ? (null, Notice(stored.Document.State == SurveyState.Answered ? 409 : 410, "Survey closed", refusal))
            : (stored.Document, null);
    }

    private static void Summary(StringBuilder body, Survey survey) =>
        body.Append("<h1>").Append(E(survey.TicketNumber)).Append(": ").Append(E(survey.Title)).Append("</h1>")
            .Append("<p>Your ").Append(survey.TicketType == TicketType.ServiceRequest ? "request" : "ticket").Append(" was resolved")
            .Append(survey.Agent is { } agent ? $" by <b id=\"agent\">{E(agent.Name ?? agent.Id)}</b>" : "").Append(".</p>");

    private static HttpResponseOutput Notice(int status, string title, string text) =>
        HtmlPage.Render(status, title, $"<p class=\"notice\" id=\"status\">{E(text)}</p>");

    private static string E(string text) => WebUtility.HtmlEncode(text);
}

/// <summary>The reminder and expiry sweep, hourly.</summary>
public sealed class SurveyReminderFunctions(SurveyReminders reminders)
{
    [Function("Surveys_Reminders")]
    public Task SurveysReminders([TimerTrigger("0 15 * * * *")] TimerInfo timer, CancellationToken cancellationToken) =>
        reminders.RunAsync(cancellationToken);
}

public static class SurveyFeature
{
    public static IServiceCollection AddSurveys(this IServiceCollection services)
    {
        services.AddSingleton<SurveyStore>().AddSingleton<SurveyLinks>().AddSingleton<SurveyInvitations>().AddSingleton<SurveyReminders>();
        services.AddSingleton<Reports.ISatisfactionSource, SurveySatisfaction>();
        services.AddSingleton<ITicketFollowUpSource>(sp => sp.GetRequiredService<SurveyInvitations>());
        services.AddSingleton<ITicketFollowUpHandler>(sp => sp.GetRequiredService<SurveyInvitations>());
        return services;
    }
}
