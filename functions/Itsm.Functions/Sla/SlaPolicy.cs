using System.Globalization;
using System.Text.Json.Serialization;
using Itsm.Functions.Hosting;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Sla;

/// <summary>Which tickets a policy applies to; an empty list matches anything.</summary>
public sealed record SlaConditions(
    IReadOnlyList<TicketType> Types,
    IReadOnlyList<int> Priorities,
    IReadOnlyList<string> Services,
    IReadOnlyList<string> Customers)
{
    public static readonly SlaConditions Any = new([], [], [], []);

    public bool Matches(Ticket ticket) =>
        (Types.Count == 0 || Types.Contains(ticket.Type))
        && (Priorities.Count == 0 || Priorities.Contains(ticket.Priority))
        && (Services.Count == 0 || (ticket.AffectedService is { } service && Services.Contains(service, StringComparer.OrdinalIgnoreCase)))
        && (Customers.Count == 0 || Customers.Contains(ticket.Requester.Id, StringComparer.Ordinal));
}

/// <summary>An operational-level agreement: the resolution time allowed while the ticket is with one assignment group.</summary>
public sealed record OlaTarget(string Group, IReadOnlyDictionary<int, int> MinutesByPriority);

[JsonConverter(typeof(JsonStringEnumConverter<BreachNotify>))]
public enum BreachNotify
{
    Assignee,
    GroupManager,
}

/// <summary>What happens when a target is breached, besides recording the breach.</summary>
public sealed record BreachActions(IReadOnlyList<BreachNotify> Notify, string? ReassignToGroup, bool RaisePriority)
{
    public static readonly BreachActions Default = new([BreachNotify.Assignee, BreachNotify.GroupManager], null, false);
}

/// <summary>
/// A tenant's SLA policy. The first active policy (lowest <see cref="Order"/>) whose conditions match a ticket
/// applies to it; its targets are business minutes per priority under <see cref="CalendarId"/>. Resolution and OLA
/// clocks pause while the ticket is in one of <see cref="PauseStates"/> ("OnHold", or "OnHold:AwaitingCaller" for
/// one hold reason). When a policy changes, open tickets take the new targets and calendar from that moment when
/// <see cref="ApplyToOpenTickets"/> is set (elapsed and paused time are kept); otherwise they keep the targets they
/// started with.
/// </summary>
public sealed record SlaPolicy
{
    public static readonly IReadOnlyList<int> DefaultWarnings = [50, 75, 90];

    public required string Id { get; init; }

    public required string Name { get; init; }

    public int Version { get; init; } = 1;

    public int Order { get; init; }

    public bool Active { get; init; } = true;

    public SlaConditions AppliesTo { get; init; } = SlaConditions.Any;

    public required string CalendarId { get; init; }

    public IReadOnlyDictionary<int, int> ResponseMinutes { get; init; } = new Dictionary<int, int>();

    public IReadOnlyDictionary<int, int> ResolutionMinutes { get; init; } = new Dictionary<int, int>();

    public IReadOnlyList<OlaTarget> Olas { get; init; } = [];

    public IReadOnlyList<string> PauseStates { get; init; } = ["OnHold"];

    /// <summary>Warning thresholds in percent of the target, ascending, each 1-99.</summary>
    public IReadOnlyList<int> Warnings { get; init; } = DefaultWarnings;

    public BreachActions OnBreach { get; init; } = BreachActions.Default;

    public bool ApplyToOpenTickets { get; init; } = true;

    /// <summary>
    /// The target for a metric at a priority, or null when the policy sets none. Targets are minutes of
    /// <paramref name="minuteLength"/> (one minute unless <c>Itsm:Policies:MinuteLength</c> shortens it for tests).
    /// </summary>
    public TimeSpan? TargetFor(SlaMetric metric, int priority, string? group, TimeSpan? minuteLength = null)
    {
        var minutes = metric switch
        {
            SlaMetric.Response => ResponseMinutes,
            SlaMetric.Resolution => ResolutionMinutes,
            _ => Olas.FirstOrDefault(o => string.Equals(o.Group, group, StringComparison.OrdinalIgnoreCase))?.MinutesByPriority,
        };
        return minutes is not null && minutes.TryGetValue(priority, out var value) ? (minuteLength ?? TimeSpan.FromMinutes(1)) * value : null;
    }

    public bool Pauses(Ticket ticket) => PauseStates.Any(p =>
    {
        var parts = p.Split(':', 2);
        return string.Equals(parts[0], ticket.State.ToString(), StringComparison.OrdinalIgnoreCase)
            && (parts.Length == 1 || string.Equals(parts[1], ticket.HoldReason?.ToString(), StringComparison.OrdinalIgnoreCase));
    });

    /// <summary>Reads and validates a policy body; null with errors recorded on <paramref name="body"/> when invalid.</summary>
    public static SlaPolicy? Read(JsonBodyReader body, string id, IReadOnlyCollection<string> calendarIds)
    {
        var name = body.String("name", required: true, maxLength: 200);
        var order = body.Int("order", 0, 10_000) ?? 0;
        var active = body.Bool("active") ?? true;
        var conditions = ReadConditions(body.Object("appliesTo"));
        var calendarId = body.String("calendarId", required: true, maxLength: 64);
        if (calendarId is not null && !calendarIds.Contains(calendarId))
        {
            body.AddError("calendarId", $"no calendar '{calendarId}' exists; create it first under /api/manage/sla/calendars/{calendarId}.");
        }

        var response = ReadMinutes(body, "responseMinutes");
        var resolution = ReadMinutes(body, "resolutionMinutes");
        var olas = new List<OlaTarget>();
        foreach (var ola in body.ObjectList("olas", 50) ?? [])
        {
            var group = ola.String("group", required: true, maxLength: 100);
            var minutes = ReadMinutes(ola, "resolutionMinutes");
            ola.RejectUnknown();
            if (group is not null && minutes is not null)
            {
                if (olas.Any(o => string.Equals(o.Group, group, StringComparison.OrdinalIgnoreCase)))
                {
                    ola.AddError("group", $"'{group}' has two OLA targets.");
                }

                olas.Add(new OlaTarget(group, minutes));
            }
        }

        var pauseStates = body.StringList("pauseStates", 20, 60) ?? ["OnHold"];
        foreach (var state in pauseStates)
        {
            var parts = state.Split(':', 2);
            if (!Enum.TryParse<TicketState>(parts[0], ignoreCase: true, out var ticketState) || int.TryParse(parts[0], out _))
            {
                body.AddError("pauseStates", $"'{state}' is not a ticket state (e.g. OnHold, or OnHold:AwaitingCaller for one hold reason).");
            }
            else if (ticketState is TicketState.New or TicketState.Resolved or TicketState.Closed or TicketState.Cancelled)
            {
                body.AddError("pauseStates", $"'{state}' cannot pause a clock: New is the start, Resolved, Closed and Cancelled stop it.");
            }
            else if (parts.Length == 2 && (!Enum.TryParse<HoldReason>(parts[1], ignoreCase: true, out _) || int.TryParse(parts[1], out _)))
            {
                body.AddError("pauseStates", $"'{parts[1]}' is not a hold reason ({string.Join(", ", Enum.GetNames<HoldReason>())}).");
            }
        }

        var warnings = ReadWarnings(body);
        var onBreach = ReadBreachActions(body.Object("onBreach"));
        var applyToOpen = body.Bool("applyToOpenTickets") ?? true;
        body.RejectUnknown();
        if ((response is null || response.Count == 0) && (resolution is null || resolution.Count == 0) && olas.Count == 0)
        {
            body.AddError("resolutionMinutes", "A policy needs at least one target: responseMinutes, resolutionMinutes or olas.");
        }

        if (body.HasErrors)
        {
            return null;
        }

        return new SlaPolicy
        {
            Id = id,
            Name = name!,
            Order = order,
            Active = active,
            AppliesTo = conditions,
            CalendarId = calendarId!,
            ResponseMinutes = response ?? new Dictionary<int, int>(),
            ResolutionMinutes = resolution ?? new Dictionary<int, int>(),
            Olas = olas,
            PauseStates = pauseStates,
            Warnings = warnings,
            OnBreach = onBreach,
            ApplyToOpenTickets = applyToOpen,
        };
    }

    private static SlaConditions ReadConditions(JsonBodyReader? reader)
    {
        if (reader is null)
        {
            return SlaConditions.Any;
        }

        var types = new List<TicketType>();
        foreach (var text in reader.StringList("types", 4, 20) ?? [])
        {
            if (Enum.TryParse<TicketType>(text, ignoreCase: true, out var type) && !int.TryParse(text, out _))
            {
                types.Add(type);
            }
            else
            {
                reader.AddError("types", $"'{text}' is not a ticket type ({string.Join(", ", Enum.GetNames<TicketType>())}).");
            }
        }

        var priorities = reader.IntList("priorities", 5, 1, 5) ?? [];
        var services = reader.StringList("services", 100, 100) ?? [];
        var customers = reader.StringList("customers", 1000, 100) ?? [];
        reader.RejectUnknown();
        return new SlaConditions(types, priorities, services, customers);
    }

    /// <summary>Business minutes per priority, keys "1" to "5", each target 1 minute to 3660 days.</summary>
    private static Dictionary<int, int>? ReadMinutes(JsonBodyReader body, string field)
    {
        var map = body.IntMap(field, 1, 3660 * 24 * 60);
        if (map is null)
        {
            return null;
        }

        var result = new Dictionary<int, int>();
        foreach (var (key, minutes) in map)
        {
            if (int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var priority) && priority is >= 1 and <= 5)
            {
                result[priority] = minutes;
            }
            else
            {
                body.AddError($"{field}.{key}", "Targets are keyed by priority \"1\" to \"5\".");
            }
        }

        return result;
    }

    private static IReadOnlyList<int> ReadWarnings(JsonBodyReader body)
    {
        var warnings = body.IntList("warnings", 10, 1, 99);
        if (body.Errors.ContainsKey("warnings"))
        {
            body.AddError("warnings", "Warnings are percentages of the target from 1 to 99 (the breach is 100), at most 10.");
        }

        return warnings ?? DefaultWarnings;
    }

    private static BreachActions ReadBreachActions(JsonBodyReader? reader)
    {
        if (reader is null)
        {
            return BreachActions.Default;
        }

        var notify = new List<BreachNotify>();
        foreach (var text in reader.StringList("notify", 2, 20) ?? [])
        {
            if (Enum.TryParse<BreachNotify>(text, ignoreCase: true, out var who) && !int.TryParse(text, out _))
            {
                notify.Add(who);
            }
            else
            {
                reader.AddError("notify", $"'{text}' is not a recipient (Assignee, GroupManager).");
            }
        }

        var reassign = reader.String("reassignToGroup", maxLength: 100);
        var raise = reader.Bool("raisePriority") ?? false;
        reader.RejectUnknown();
        return new BreachActions(notify, reassign, raise);
    }
}
