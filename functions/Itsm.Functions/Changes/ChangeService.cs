using System.Text.Json;
using Itsm.Functions.Approvals;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Changes;

/// <summary>Change management use cases: risk, conflicts, the change calendar and the tenant's change windows.</summary>
public sealed class ChangeService(TicketStore tickets, ApprovalStore approvals, IChangeCmdb cmdb, TimeProvider time)
{
    private const int RecentChanges = 20;
    private static readonly TimeSpan MaxCalendarRange = TimeSpan.FromDays(366);

    /// <summary>Daily windows over the longest range give 366; a window with several stretches a day is cut off here.</summary>
    private const int MaxOccurrences = 1000;

    public static readonly JsonSerializerOptions StrictJson = new(HttpResults.Json)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>Reads a whole JSON document into <typeparamref name="T"/>; a type error or unknown field is reported at its path.</summary>
    public static T? ReadStrict<T>(string? body, out Dictionary<string, string[]> errors)
    {
        errors = [];
        if (string.IsNullOrWhiteSpace(body))
        {
            errors["$"] = ["A JSON object body is required."];
            return default;
        }

        try
        {
            var value = JsonSerializer.Deserialize<T>(body, StrictJson);
            if (value is null)
            {
                errors["$"] = ["A JSON object body is required."];
            }

            return value;
        }
        catch (JsonException ex)
        {
            errors[string.IsNullOrEmpty(ex.Path) ? "$" : ex.Path.TrimStart('$', '.')] = [ex.Message.Split(" Path:")[0]];
            return default;
        }
    }

    /// <summary>Open changes of the tenant with a planned start and end.</summary>
    public async Task<IReadOnlyList<ScheduledChange>> ScheduledAsync(string tenantId, CancellationToken cancellationToken)
    {
        var all = new List<ScheduledChange>();
        string? continuation = null;
        do
        {
            var page = await tickets.QueryTicketsAsync(tenantId, [new QueryFilter("type", FilterOperator.Equals, nameof(TicketType.Change))], new QuerySort("createdAt", false), 200, continuation, cancellationToken);
            all.AddRange(page.Items.Select(i => Schedule(i.Document)).OfType<ScheduledChange>().Where(c => c.State is not (nameof(TicketState.Closed) or nameof(TicketState.Cancelled))));
            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        return all;
    }

    public static ScheduledChange? Schedule(Ticket ticket) =>
        ticket is { Type: TicketType.Change, Change: { PlannedStart: { } start, PlannedEnd: { } end } change } && end > start
            ? new ScheduledChange(ticket.Id, ticket.Number, ticket.Title, ticket.State.ToString(), change.ChangeType.ToString(), start, end, ticket.ConfigurationItems, ticket.AffectedService, ticket.AssignmentGroup, ticket.Assignee?.Id)
            : null;

    public async Task<IReadOnlyList<ChangeConflict>> ConflictsAsync(Ticket ticket, CancellationToken cancellationToken)
    {
        if (Schedule(ticket) is not { } change)
        {
            return [];
        }

        var settings = await approvals.ChangeSettingsAsync(ticket.TenantId, cancellationToken);
        var related = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal);
        foreach (var ci in change.Cis)
        {
            related[ci] = await cmdb.RelatedAsync(ticket.TenantId, ci, settings.RelatedCiDepth, cancellationToken);
        }

        return ChangeRules.Detect(change, await ScheduledAsync(ticket.TenantId, cancellationToken), settings.Windows, related);
    }

    public async Task<ChangeRisk> RiskAsync(Ticket ticket, CancellationToken cancellationToken)
    {
        var answers = await approvals.RiskAnswersAsync(ticket.TenantId, ticket.Id, cancellationToken);
        var criticality = 1;
        foreach (var ci in ticket.ConfigurationItems)
        {
            criticality = Math.Max(criticality, await cmdb.CriticalityAsync(ticket.TenantId, ci, cancellationToken));
        }

        var services = await cmdb.AffectedServicesAsync(ticket.TenantId, ticket.ConfigurationItems, cancellationToken);
        return ChangeRules.Score(answers, ticket.ConfigurationItems.Count == 0 ? 1 : criticality, services.Count, await FailureRateAsync(ticket, cancellationToken));
    }

    /// <summary>The share of the latest reviewed changes on the same CIs whose review outcome was Unsuccessful.</summary>
    private async Task<double> FailureRateAsync(Ticket ticket, CancellationToken cancellationToken)
    {
        var reviewed = new Dictionary<string, Ticket>(StringComparer.Ordinal);
        foreach (var ci in ticket.ConfigurationItems.Take(10))
        {
            var page = await tickets.QueryTicketsAsync(
                ticket.TenantId,
                [new QueryFilter("type", FilterOperator.Equals, nameof(TicketType.Change)), new QueryFilter("state", FilterOperator.Equals, nameof(TicketState.Closed)), new QueryFilter("configurationItems", FilterOperator.ArrayContains, ci)],
                new QuerySort("updatedAt", true), RecentChanges, null, cancellationToken);
            foreach (var item in page.Items.Where(i => i.Document.Change?.ReviewOutcome is not null))
            {
                reviewed[item.Document.Id] = item.Document;
            }
        }

        var recent = reviewed.Values.OrderByDescending(t => t.UpdatedAt).Take(RecentChanges).ToArray();
        return recent.Length == 0 ? 0 : recent.Count(t => t.Change!.ReviewOutcome == "Unsuccessful") / (double)recent.Length;
    }

    public async Task<HttpResponseOutput> AssessmentAsync(ApiContext api, string ticketId)
    {
        if (await ReadChangeAsync(api, ticketId) is not { } ticket)
        {
            return ApiFunctions.NotFound($"Change '{ticketId}'");
        }

        var records = await approvals.ForSubjectAsync(api.Caller.TenantId, ticket.Id, api.CancellationToken);
        return HttpResults.Ok(new
        {
            ticketId = ticket.Id,
            number = ticket.Number,
            changeType = ticket.Change?.ChangeType ?? ChangeType.Normal,
            risk = await RiskAsync(ticket, api.CancellationToken),
            conflicts = await ConflictsAsync(ticket, api.CancellationToken),
            approvals = records.Select(r => new { r.Id, r.State, r.PolicyName, r.OutcomeReason, r.RetrospectiveReviewRequired, r.Override }),
        });
    }

    public async Task<HttpResponseOutput> PutRiskAsync(ApiContext api, string ticketId)
    {
        if (await ReadChangeAsync(api, ticketId) is not { } ticket)
        {
            return ApiFunctions.NotFound($"Change '{ticketId}'");
        }

        var answers = ReadStrict<RiskQuestionnaire>(api.Request.Body, out var errors);
        if (answers is null)
        {
            return HttpResults.ValidationProblem(errors);
        }

        await approvals.SaveAsync(api.Caller.TenantId, ApprovalStore.RiskAnswersId(ticket.Id), "risk-answers", answers, time.GetUtcNow(), api.Caller.UserId, api.CancellationToken);
        return HttpResults.Ok(new { ticketId = ticket.Id, answers, risk = await RiskAsync(ticket, api.CancellationToken) });
    }

    public async Task<HttpResponseOutput> CalendarAsync(ApiContext api)
    {
        if (!api.Caller.IsAgent)
        {
            return ApiFunctions.Forbidden("The change calendar is for agents.");
        }

        var errors = new Dictionary<string, string[]>();
        var from = Instant(api.Request.QueryValue("from"), "from", errors);
        var to = Instant(api.Request.QueryValue("to"), "to", errors);
        if (from is not null && to is not null && to <= from)
        {
            errors["to"] = ["must be after 'from'."];
        }
        else if (from is not null && to is not null && to - from > MaxCalendarRange)
        {
            errors["to"] = ["The calendar shows at most 366 days at a time."];
        }

        if (errors.Count > 0)
        {
            return HttpResults.ValidationProblem(errors);
        }

        var ci = api.Request.QueryValue("ci");
        var service = api.Request.QueryValue("service");
        var group = api.Request.QueryValue("group");
        var changes = (await ScheduledAsync(api.Caller.TenantId, api.CancellationToken))
            .Where(c => c.Overlaps(from!.Value, to!.Value))
            .Where(c => ci is null || c.Cis.Contains(ci))
            .Where(c => service is null || c.Service == service)
            .Where(c => group is null || c.AssignmentGroup == group)
            .OrderBy(c => c.Start).ThenBy(c => c.Number, StringComparer.Ordinal)
            .ToArray();
        var settings = await approvals.ChangeSettingsAsync(api.Caller.TenantId, api.CancellationToken);
        var windows = settings.Windows.Where(w => w.Overlaps(from!.Value, to!.Value))
            .Where(w => ci is null || w.IsGlobal || w.AppliesTo(ci, null))
            .Where(w => service is null || w.IsGlobal || w.AppliesTo(null, service))
            .Select(w => new { w.Name, w.Kind, w.Start, w.End, w.Cis, w.Services, w.Recurrence, occurrences = w.OccurrencesBetween(from!.Value, to!.Value, MaxOccurrences) });
        return HttpResults.Ok(new { from, to, changes, windows });
    }

    public async Task<HttpResponseOutput> GetSettingsAsync(ApiContext api) =>
        api.Caller.IsAgent
            ? HttpResults.Ok(await approvals.ChangeSettingsAsync(api.Caller.TenantId, api.CancellationToken))
            : ApiFunctions.Forbidden("Change settings are for agents.");

    public async Task<HttpResponseOutput> PutSettingsAsync(ApiContext api)
    {
        if (!api.Caller.IsAdmin)
        {
            return ApiFunctions.Forbidden("Only admins change the change windows.");
        }

        var settings = ReadStrict<ChangeSettings>(api.Request.Body, out var errors);
        if (settings is null)
        {
            return HttpResults.ValidationProblem(errors);
        }

        if (settings.Validate() is { Count: > 0 } invalid)
        {
            return HttpResults.ValidationProblem(invalid);
        }

        await approvals.SaveAsync(api.Caller.TenantId, ApprovalStore.ChangeSettingsId, "change-settings", settings, time.GetUtcNow(), api.Caller.UserId, api.CancellationToken);
        return HttpResults.Ok(settings);
    }

    public async Task<Ticket?> ReadChangeAsync(ApiContext api, string ticketId)
    {
        if (!api.Caller.IsAgent || ticketId.Length is 0 or > 64 || ticketId.Contains(DocumentKey.LevelSeparator, StringComparison.Ordinal))
        {
            return null;
        }

        var stored = await tickets.ReadAsync(api.Caller.TenantId, ticketId, api.CancellationToken);
        return stored?.Document is { Type: TicketType.Change } ticket ? ticket : null;
    }

    private static DateTimeOffset? Instant(string? text, string name, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            errors[name] = ["is required (an ISO 8601 instant with an offset)."];
            return null;
        }

        if (!DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var value) || !text.Contains('T', StringComparison.Ordinal))
        {
            errors[name] = ["must be an ISO 8601 instant with an offset, e.g. 2026-03-02T08:00:00Z."];
            return null;
        }

        return value;
    }
}
