namespace Itsm.Functions.Tickets;

/// <summary>What an agent asks for with <c>POST /tickets/{id}/actions/{action}</c> when the action moves the ticket.</summary>
public sealed record TransitionRequest(
    string Action,
    HoldReason? HoldReason = null,
    string? ResolutionCode = null,
    string? ResolutionNotes = null,
    string? RootCause = null,
    string? Workaround = null,
    string? ReviewOutcome = null,
    string? Reason = null);

public sealed record TicketPolicy(TimeSpan ReopenWindow)
{
    public static readonly TicketPolicy Default = new(TimeSpan.FromDays(7));
}

/// <summary>The outcome of a rule: the new ticket, or the field errors, or why the action is not possible now.</summary>
public sealed record RuleOutcome<T>(T? Value, IReadOnlyDictionary<string, string[]>? Errors, string? Conflict)
{
    public bool Succeeded => Value is not null;

    public static RuleOutcome<T> Ok(T value) => new(value, null, null);

    public static RuleOutcome<T> Invalid(IReadOnlyDictionary<string, string[]> errors) => new(default, errors, null);

    public static RuleOutcome<T> NotAllowed(string reason) => new(default, null, reason);
}

/// <summary>
/// The lifecycle of each ticket type as explicit actions (ITIL, as ServiceNow and Jira Service Management
/// users know it). Pure: the caller stores the result and its audit trail.
/// </summary>
public static class TicketLifecycle
{
    public static readonly IReadOnlyList<string> ReviewOutcomes = ["Successful", "SuccessfulWithIssues", "Unsuccessful"];

    private static readonly Dictionary<(TicketType, string), (TicketState[] From, TicketState To)> Transitions = Build();

    /// <summary>The transition actions available for a ticket right now.</summary>
    public static IReadOnlyList<string> AvailableActions(Ticket ticket) =>
        Transitions
            .Where(t => t.Key.Item1 == ticket.Type && t.Value.From.Contains(ticket.State))
            .Select(t => t.Key.Item2)
            .Order(StringComparer.Ordinal)
            .ToArray();

    /// <summary>The type in words with its article, for messages: "an incident", "a service request".</summary>
    public static string Describe(TicketType type) => type switch
    {
        TicketType.Incident => "an incident",
        TicketType.ServiceRequest => "a service request",
        TicketType.Problem => "a problem",
        TicketType.Change => "a change",
        _ => "a ticket",
    };

    /// <summary>What a caller can do next, as a sentence: the transitions possible now, or that none is (and why).</summary>
    public static string PossibleNow(Ticket ticket) =>
        AvailableActions(ticket) is { Count: > 0 } actions
            ? $"Possible now: {string.Join(", ", actions)}."
            : $"No change of state is possible now: {ticket.Number} is {ticket.State}{(ticket.IsOpen ? "" : " and finished")}.";

    public static string Capitalised(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    public static bool IsTransition(TicketType type, string action) =>
        Transitions.ContainsKey((type, action)) || (type == TicketType.Problem && action == "mark-known-error");

    public static RuleOutcome<Ticket> Apply(Ticket ticket, TransitionRequest request, string actor, DateTimeOffset now, TicketPolicy policy)
    {
        if (ticket.Type == TicketType.Problem && request.Action == "mark-known-error")
        {
            return MarkKnownError(ticket, request, now);
        }

        if (!Transitions.TryGetValue((ticket.Type, request.Action), out var transition))
        {
            return RuleOutcome<Ticket>.NotAllowed($"'{request.Action}' is not an action of {Describe(ticket.Type)}.");
        }

        var target = transition.To;
        if (ticket.Type == TicketType.Change && request.Action == "submit" && ticket.Change?.ChangeType == ChangeType.Standard)
        {
            // Standard changes come from pre-approved templates: no authorisation step.
            target = TicketState.Scheduled;
        }

        if (!transition.From.Contains(ticket.State))
        {
            return RuleOutcome<Ticket>.NotAllowed(
                $"{Capitalised(Describe(ticket.Type))} in state {ticket.State} cannot '{request.Action}'. {PossibleNow(ticket)}");
        }

        var errors = new Dictionary<string, string[]>();
        var next = ticket with { State = target, UpdatedAt = now };
        switch (request.Action)
        {
            case "hold":
                if (request.HoldReason is null)
                {
                    errors["holdReason"] = ["Putting a ticket on hold needs a reason: AwaitingCaller, AwaitingVendor, AwaitingChange, AwaitingProblem or (service requests) AwaitingApproval."];
                }
                else if (request.HoldReason == HoldReason.AwaitingApproval && ticket.Type != TicketType.ServiceRequest)
                {
                    errors["holdReason"] = ["Only service requests wait for approval; an incident cannot be put on hold AwaitingApproval."];
                }

                next = next with { HoldReason = request.HoldReason };
                break;
            case "resume" or "start":
                next = next with { HoldReason = null };
                break;
            case "resolve":
                Require(errors, "resolutionCode", request.ResolutionCode, "Resolving needs a resolution code.");
                Require(errors, "resolutionNotes", request.ResolutionNotes, "Resolving needs resolution notes.");
                next = next with { HoldReason = null, Resolution = new Resolution(request.ResolutionCode?.Trim() ?? "", request.ResolutionNotes?.Trim() ?? "", now, actor) };
                break;
            case "reopen":
                if (ticket.Resolution is { } resolution && now - resolution.ResolvedAt > policy.ReopenWindow)
                {
                    return RuleOutcome<Ticket>.NotAllowed($"The ticket was resolved more than {policy.ReopenWindow.TotalDays:0.#} days ago and can no longer be reopened; raise a new one.");
                }

                next = next with { Resolution = null };
                break;
            case "close":
                if (ticket.Type == TicketType.Problem && string.IsNullOrWhiteSpace(ticket.Problem?.RootCause))
                {
                    errors["rootCause"] = ["A problem cannot be closed without a root cause."];
                }

                if (ticket.Type == TicketType.Change)
                {
                    if (request.ReviewOutcome is null || !ReviewOutcomes.Contains(request.ReviewOutcome))
                    {
                        errors["reviewOutcome"] = [$"Closing a change needs the review outcome: {string.Join(", ", ReviewOutcomes)}."];
                    }

                    next = next with { Change = (ticket.Change ?? new ChangeRecord()) with { ReviewOutcome = request.ReviewOutcome } };
                }

                next = next with { ClosedAt = now };
                break;
            case "cancel":
                Require(errors, "reason", request.Reason, "Cancelling needs a reason.");
                next = next with { ClosedAt = now, HoldReason = null };
                break;
            case "fix":
                var rootCause = request.RootCause ?? ticket.Problem?.RootCause;
                Require(errors, "rootCause", rootCause, "Working on a fix needs the root cause.");
                next = next with { Problem = (ticket.Problem ?? new ProblemRecord()) with { RootCause = rootCause?.Trim() } };
                break;
            case "submit":
                ValidateChangePlan(ticket.Change, errors);
                break;
        }

        return errors.Count > 0 ? RuleOutcome<Ticket>.Invalid(errors) : RuleOutcome<Ticket>.Ok(next);
    }

    private static RuleOutcome<Ticket> MarkKnownError(Ticket ticket, TransitionRequest request, DateTimeOffset now)
    {
        if (ticket.State is TicketState.New or TicketState.Closed or TicketState.Cancelled)
        {
            return RuleOutcome<Ticket>.NotAllowed($"A problem in state {ticket.State} cannot become a known error; assess it first.");
        }

        var workaround = request.Workaround ?? ticket.Problem?.Workaround;
        if (string.IsNullOrWhiteSpace(workaround))
        {
            return RuleOutcome<Ticket>.Invalid(new Dictionary<string, string[]> { ["workaround"] = ["A known error needs a documented workaround."] });
        }

        return RuleOutcome<Ticket>.Ok(ticket with
        {
            Problem = (ticket.Problem ?? new ProblemRecord()) with { KnownError = true, Workaround = workaround.Trim() },
            UpdatedAt = now,
        });
    }

    private static void ValidateChangePlan(ChangeRecord? change, Dictionary<string, string[]> errors)
    {
        if (change?.ChangeType == ChangeType.Standard)
        {
            return;
        }

        if (change?.PlannedStart is null)
        {
            errors["change.plannedStart"] = ["A change needs a planned start before it is submitted for authorisation."];
        }

        if (change?.PlannedEnd is null)
        {
            errors["change.plannedEnd"] = ["A change needs a planned end before it is submitted for authorisation."];
        }
        else if (change.PlannedStart is { } start && change.PlannedEnd <= start)
        {
            errors["change.plannedEnd"] = ["The planned end must be after the planned start."];
        }

        if (string.IsNullOrWhiteSpace(change?.ImplementationPlan))
        {
            errors["change.implementationPlan"] = ["A change needs an implementation plan."];
        }

        if (string.IsNullOrWhiteSpace(change?.BackoutPlan))
        {
            errors["change.backoutPlan"] = ["A change needs a back-out plan."];
        }
    }

    private static void Require(Dictionary<string, string[]> errors, string field, string? value, string reason)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors[field] = [reason];
        }
    }

    private static Dictionary<(TicketType, string), (TicketState[] From, TicketState To)> Build()
    {
        var t = new Dictionary<(TicketType, string), (TicketState[], TicketState)>();
        foreach (var type in new[] { TicketType.Incident, TicketType.ServiceRequest })
        {
            t[(type, "start")] = ([TicketState.New], TicketState.InProgress);
            t[(type, "hold")] = ([TicketState.New, TicketState.InProgress], TicketState.OnHold);
            t[(type, "resume")] = ([TicketState.OnHold], TicketState.InProgress);
            t[(type, "resolve")] = ([TicketState.New, TicketState.InProgress, TicketState.OnHold], TicketState.Resolved);
            t[(type, "close")] = ([TicketState.Resolved], TicketState.Closed);
            t[(type, "reopen")] = ([TicketState.Resolved], TicketState.InProgress);
            t[(type, "cancel")] = ([TicketState.New, TicketState.InProgress, TicketState.OnHold], TicketState.Cancelled);
        }

        t[(TicketType.Problem, "assess")] = ([TicketState.New], TicketState.Assess);
        t[(TicketType.Problem, "analyse")] = ([TicketState.Assess], TicketState.RootCauseAnalysis);
        t[(TicketType.Problem, "fix")] = ([TicketState.RootCauseAnalysis], TicketState.FixInProgress);
        t[(TicketType.Problem, "resolve")] = ([TicketState.FixInProgress], TicketState.Resolved);
        t[(TicketType.Problem, "close")] = ([TicketState.Resolved], TicketState.Closed);
        t[(TicketType.Problem, "reopen")] = ([TicketState.Resolved], TicketState.FixInProgress);
        t[(TicketType.Problem, "cancel")] = ([TicketState.New, TicketState.Assess, TicketState.RootCauseAnalysis, TicketState.FixInProgress], TicketState.Cancelled);

        t[(TicketType.Change, "assess")] = ([TicketState.New], TicketState.Assess);
        t[(TicketType.Change, "submit")] = ([TicketState.New, TicketState.Assess], TicketState.Authorize);
        t[(TicketType.Change, "authorize")] = ([TicketState.Authorize], TicketState.Scheduled);
        t[(TicketType.Change, "implement")] = ([TicketState.Scheduled], TicketState.Implement);
        t[(TicketType.Change, "review")] = ([TicketState.Implement], TicketState.Review);
        t[(TicketType.Change, "close")] = ([TicketState.Review], TicketState.Closed);
        t[(TicketType.Change, "revert")] = ([TicketState.Assess, TicketState.Authorize, TicketState.Scheduled], TicketState.New);
        t[(TicketType.Change, "cancel")] = ([TicketState.New, TicketState.Assess, TicketState.Authorize, TicketState.Scheduled], TicketState.Cancelled);
        return t;
    }
}
