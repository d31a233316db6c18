using System.Collections.Concurrent;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Sla;

/// <summary>
/// A tenant's SLA settings: its policies and the current version of each calendar. One small document per tenant
/// (next to the priority matrix), so a ticket write reads it with one point read.
/// </summary>
public sealed record SlaSettingsDocument(
    string Id,
    string TenantId,
    IReadOnlyDictionary<string, int> Calendars,
    IReadOnlyList<SlaPolicy> Policies,
    DateTimeOffset UpdatedAt,
    string UpdatedBy)
{
    public const string DocumentId = "sla-settings";
}

/// <summary>One version of a calendar. Versions are never changed, so clocks that ran under an old one keep its arithmetic.</summary>
public sealed record SlaCalendarDocument(string Id, string TenantId, string CalendarId, int Version, CalendarDefinition Definition, DateTimeOffset CreatedAt, string CreatedBy)
{
    public static string DocumentIdFor(string calendarId, int version) => $"sla-calendar:{calendarId}:{version}";
}

/// <summary>Reads the SLA settings for the tracker and serves the admin API for calendars and policies.</summary>
public sealed class SlaSettings(IDocumentStore store, TimeProvider time, ItsmOptions options)
{
    private static readonly System.Text.RegularExpressions.Regex IdPattern = new("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    private readonly ConcurrentDictionary<(string Tenant, string Id, int Version), BusinessCalendar> _calendars = new();

    /// <summary>The tenant's settings: its own once stored, else the product's defaults (<see cref="SlaDefaults"/>).</summary>
    public async Task<SlaSettingsDocument?> ReadAsync(string tenantId, CancellationToken cancellationToken) =>
        (await ReadStoredAsync(tenantId, cancellationToken))?.Document ?? SlaDefaults.Settings(tenantId);

    /// <summary>The tracker's context for one ticket: the tenant's policies and every calendar version the ticket's clocks or the policies use.</summary>
    public async Task<SlaContext?> ContextForAsync(Ticket ticket, CancellationToken cancellationToken)
    {
        var settings = await ReadAsync(ticket.TenantId, cancellationToken);
        if (settings is null && ticket.Sla.Count == 0)
        {
            return null;
        }

        var needed = ticket.Sla.Select(c => (c.CalendarId, c.CalendarVersion))
            .Concat((settings?.Policies ?? []).Select(p => (p.CalendarId, settings!.Calendars.GetValueOrDefault(p.CalendarId, 1))))
            .Distinct()
            .ToArray();
        foreach (var (id, version) in needed)
        {
            await CalendarAsync(ticket.TenantId, id, version, cancellationToken);
        }

        return new SlaContext(
            settings?.Policies ?? [],
            settings?.Calendars ?? new Dictionary<string, int>(),
            (id, version) => _calendars.TryGetValue((ticket.TenantId, id, version), out var calendar)
                ? calendar
                : throw new InvalidOperationException($"Calendar {id} version {version} was not loaded."))
        {
            MinuteLength = options.Policies.MinuteLength,
        };
    }

    public async Task<BusinessCalendar> CalendarAsync(string tenantId, string calendarId, int version, CancellationToken cancellationToken)
    {
        if (_calendars.TryGetValue((tenantId, calendarId, version), out var cached))
        {
            return cached;
        }

        var stored = await ReadCalendarAsync(tenantId, calendarId, version, cancellationToken)
            ?? throw new DocumentStoreException($"Calendar {calendarId} version {version} of tenant {tenantId} is missing.");
        return _calendars.GetOrAdd((tenantId, calendarId, version), stored.Document.Definition.ToCalendar());
    }

    public async Task<HttpResponseOutput> ListCalendarsAsync(ApiContext api)
    {
        var settings = await ReadAsync(api.Caller.TenantId, api.CancellationToken);
        var items = new List<object>();
        foreach (var (id, version) in (settings?.Calendars ?? new Dictionary<string, int>()).OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            var calendar = await ReadCalendarAsync(api.Caller.TenantId, id, version, api.CancellationToken);
            items.Add(new { id, version, name = calendar?.Document.Definition.Name, timeZone = calendar?.Document.Definition.TimeZone });
        }

        return HttpResults.Ok(new { items });
    }

    public async Task<HttpResponseOutput> GetCalendarAsync(ApiContext api, string id)
    {
        var settings = await ReadAsync(api.Caller.TenantId, api.CancellationToken);
        if (settings is null || !settings.Calendars.TryGetValue(id, out var version)
            || await ReadCalendarAsync(api.Caller.TenantId, id, version, api.CancellationToken) is not { } calendar)
        {
            return ApiFunctions.NotFound($"Calendar '{id}'");
        }

        return HttpResults.Ok(CalendarView(calendar));
    }

    /// <summary>Creates a calendar or its next version. Clocks running under the old version take the new one from now when their policy applies changes to open tickets.</summary>
    public async Task<HttpResponseOutput> PutCalendarAsync(ApiContext api, string id)
    {
        if (!api.Caller.IsAdmin)
        {
            return ApiFunctions.Forbidden("Only admins change SLA calendars.");
        }

        if (!IdPattern.IsMatch(id))
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["id"] = ["Calendar ids are 1-64 letters, digits, '.', '_' or '-'."] });
        }

        var body = JsonBodyReader.Parse(api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var definition = CalendarDefinition.Read(body);
        if (definition is null)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        var now = time.GetUtcNow();
        var current = await ReadStoredAsync(api.Caller.TenantId, api.CancellationToken);
        var inForce = current?.Document ?? SlaDefaults.Settings(api.Caller.TenantId);
        var version = inForce.Calendars.GetValueOrDefault(id) + 1;
        var calendars = new Dictionary<string, int>(inForce.Calendars, StringComparer.Ordinal) { [id] = version };
        var settings = (current?.Document ?? SlaDefaults.Settings(api.Caller.TenantId)) with { Calendars = calendars, UpdatedAt = now, UpdatedBy = api.Caller.UserId };
        var document = new SlaCalendarDocument(SlaCalendarDocument.DocumentIdFor(id, version), api.Caller.TenantId, id, version, definition, now, api.Caller.UserId);
        if (await WriteAsync(current, settings, new BatchOperation.Create(document.Id, document), api.CancellationToken) is { } conflict)
        {
            return conflict;
        }

        return HttpResults.JsonBody(version == 1 ? 201 : 200, CalendarView(document));
    }

    public async Task<HttpResponseOutput> ListPoliciesAsync(ApiContext api)
    {
        var settings = await ReadAsync(api.Caller.TenantId, api.CancellationToken);
        return HttpResults.Ok(new { items = (settings?.Policies ?? []).OrderBy(p => p.Order).ThenBy(p => p.Id, StringComparer.Ordinal) });
    }

    public async Task<HttpResponseOutput> GetPolicyAsync(ApiContext api, string id)
    {
        var settings = await ReadAsync(api.Caller.TenantId, api.CancellationToken);
        return settings?.Policies.FirstOrDefault(p => p.Id == id) is { } policy
            ? HttpResults.Ok(policy)
            : ApiFunctions.NotFound($"SLA policy '{id}'");
    }

    /// <summary>Creates or replaces a policy (a new version). Open tickets follow it from their next write or clock wake-up when it says so.</summary>
    public async Task<HttpResponseOutput> PutPolicyAsync(ApiContext api, string id)
    {
        if (!api.Caller.IsAdmin)
        {
            return ApiFunctions.Forbidden("Only admins change SLA policies.");
        }

        if (!IdPattern.IsMatch(id))
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["id"] = ["Policy ids are 1-64 letters, digits, '.', '_' or '-'."] });
        }

        var body = JsonBodyReader.Parse(api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var now = time.GetUtcNow();
        var current = await ReadStoredAsync(api.Caller.TenantId, api.CancellationToken);
        var calendars = (current?.Document ?? SlaDefaults.Settings(api.Caller.TenantId)).Calendars;
        var policy = SlaPolicy.Read(body, id, calendars.Keys.ToArray());
        if (policy is null)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        var previous = (current?.Document ?? SlaDefaults.Settings(api.Caller.TenantId)).Policies.FirstOrDefault(p => p.Id == id);
        policy = policy with { Version = (previous?.Version ?? 0) + 1 };
        var policies = (current?.Document ?? SlaDefaults.Settings(api.Caller.TenantId)).Policies.Where(p => p.Id != id).Append(policy).ToArray();
        var settings = (current?.Document ?? SlaDefaults.Settings(api.Caller.TenantId)) with { Policies = policies, UpdatedAt = now, UpdatedBy = api.Caller.UserId };
        if (await WriteAsync(current, settings, null, api.CancellationToken) is { } conflict)
        {
            return conflict;
        }

        if (previous is not null && policy.ApplyToOpenTickets)
        {
            await api.Http.DurableClient().StartOnceAsync(
                SlaPolicyRolloutOrchestrator.Name,
                SlaPolicyRolloutOrchestrator.InstanceId(api.Caller.TenantId, id, policy.Version),
                new SlaRolloutInput(api.Caller.TenantId, id, policy.Version),
                api.CancellationToken);
        }

        return HttpResults.JsonBody(previous is null ? 201 : 200, policy);
    }

    private async Task<StoredDocument<SlaSettingsDocument>?> ReadStoredAsync(string tenantId, CancellationToken cancellationToken) =>
        await store.ReadAsync<SlaSettingsDocument>(TicketStore.Counters, new DocumentKey(tenantId, SlaSettingsDocument.DocumentId), cancellationToken);

    /// <summary>A stored calendar version, or version 1 of a default calendar (never stored).</summary>
    private async Task<StoredDocument<SlaCalendarDocument>?> ReadCalendarAsync(string tenantId, string id, int version, CancellationToken cancellationToken)
    {
        var key = new DocumentKey(tenantId, SlaCalendarDocument.DocumentIdFor(id, version));
        return await store.ReadAsync<SlaCalendarDocument>(TicketStore.Counters, key, cancellationToken)
            ?? (SlaDefaults.Calendar(tenantId, id, version) is { } builtIn ? new StoredDocument<SlaCalendarDocument>(key, builtIn, "\"product-default\"") : null);
    }

    /// <summary>Writes the settings (and a new calendar version) in one transaction, if nobody changed them meanwhile.</summary>
    private async Task<HttpResponseOutput?> WriteAsync(StoredDocument<SlaSettingsDocument>? current, SlaSettingsDocument settings, BatchOperation? extra, CancellationToken cancellationToken)
    {
        BatchOperation write = current is null
            ? new BatchOperation.Create(SlaSettingsDocument.DocumentId, settings)
            : new BatchOperation.Replace(SlaSettingsDocument.DocumentId, settings, current.ETag);
        try
        {
            await store.ExecuteBatchAsync(TicketStore.Counters, settings.TenantId, extra is null ? [write] : [write, extra], cancellationToken);
            return null;
        }
        catch (Exception ex) when (ex is PreconditionFailedException or DocumentConflictException)
        {
            return HttpResults.Problem(412, "The SLA settings were changed by someone else.", "Read them again and reapply your change.");
        }
    }

    private static object CalendarView(StoredDocument<SlaCalendarDocument> stored) => CalendarView(stored.Document);

    private static object CalendarView(SlaCalendarDocument calendar) => new
    {
        id = calendar.CalendarId,
        calendar.Version,
        calendar.Definition.Name,
        calendar.Definition.TimeZone,
        calendar.Definition.WeeklyHours,
        calendar.Definition.Holidays,
        calendar.Definition.RecurringHolidays,
        calendar.Definition.Exceptions,
        calendar.CreatedAt,
        calendar.CreatedBy,
    };
}
