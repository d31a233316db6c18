using System.Text.Json;
using System.Text.Json.Serialization;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Catalog;

[JsonConverter(typeof(JsonStringEnumConverter<FulfilmentTaskState>))]
public enum FulfilmentTaskState
{
    /// <summary>Waits for the tasks of an earlier stage.</summary>
    Pending,

    /// <summary>In its group's queue.</summary>
    Open,
    InProgress,
    Closed,
    Cancelled,

    /// <summary>Not needed for this order: its condition on the answers did not hold.</summary>
    Skipped,
}

/// <summary>One task of a request's fulfilment, created from its plan when the request is approved (or ordered, when no approval is needed).</summary>
public sealed record FulfilmentTask
{
    public required string Key { get; init; }

    /// <summary>The request's number and the task's place in the plan: <c>REQ0001001-T2</c>.</summary>
    public required string Number { get; init; }

    public required string Name { get; init; }

    public string? Description { get; init; }

    public required string AssignmentGroup { get; init; }

    public required int Stage { get; init; }

    public required FulfilmentTaskState State { get; init; }

    public PersonRef? Assignee { get; init; }

    public DateTimeOffset? OpenedAt { get; init; }

    public DateTimeOffset? ClosedAt { get; init; }

    public string? ClosedBy { get; init; }

    /// <summary>Close notes, or why it was cancelled or skipped.</summary>
    public string? Notes { get; init; }

    [JsonIgnore]
    public bool IsFinished => State is FulfilmentTaskState.Closed or FulfilmentTaskState.Cancelled or FulfilmentTaskState.Skipped;

    [JsonIgnore]
    public bool IsActive => State is FulfilmentTaskState.Open or FulfilmentTaskState.InProgress;

    /// <summary>Changed by the write being made: its queue copy is written with it. Never stored.</summary>
    [JsonIgnore]
    public bool Changed { get; init; }
}

/// <summary>
/// A catalogue request's fulfilment: the plan of the item version it was ordered from, and its tasks once created.
/// <see cref="FinishedAt"/> is set when the last task finished and the request was resolved, so reopening the request
/// afterwards leaves it to the agents.
/// </summary>
public sealed record Fulfilment(
    IReadOnlyList<FulfilmentTaskDefinition> Plan,
    IReadOnlyList<FulfilmentTask> Tasks,
    DateTimeOffset? StartedAt = null,
    DateTimeOffset? FinishedAt = null);

/// <summary>
/// How fulfilment moves, as pure functions over the ticket: tasks are created when the request no longer waits for its
/// approval (the first stage opens, later ones wait), each stage opens when the one before is finished, the request is
/// resolved when every task is finished, and a cancelled request cancels its unfinished tasks.
/// </summary>
public static class FulfilmentRules
{
    public const string Actor = "fulfilment";
    public const string Channel = "catalog";
    public const string FulfilledCode = "Fulfilled";
    public const string PartlyFulfilledCode = "PartlyFulfilled";

    public static readonly IReadOnlyList<string> TaskActions = ["assign", "start", "close", "cancel"];

    /// <summary>Brings the tasks in line with the request at <paramref name="at"/>; the events say what moved (for the audit trail).</summary>
    public static (Ticket Ticket, IReadOnlyList<(string Action, FulfilmentTask? Task)> Events) Advance(Ticket ticket, DateTimeOffset at)
    {
        var events = new List<(string, FulfilmentTask?)>();
        if (ticket.Fulfilment is not { } fulfilment || fulfilment.Plan.Count == 0)
        {
            return (ticket, events);
        }

        var tasks = fulfilment.Tasks.ToList();
        if (ticket.State == TicketState.Cancelled)
        {
            for (var i = 0; i < tasks.Count; i++)
            {
                if (!tasks[i].IsFinished)
                {
                    tasks[i] = tasks[i] with { State = FulfilmentTaskState.Cancelled, ClosedAt = at, ClosedBy = Actor, Notes = "The request was cancelled.", Changed = true };
                    events.Add(("task.cancelled", tasks[i]));
                }
            }

            return (ticket with { Fulfilment = fulfilment with { Tasks = tasks } }, events);
        }

        if (!ticket.IsOpen || fulfilment.FinishedAt is not null || Approvals.ApprovalSubjects.AwaitsApproval(ticket))
        {
            return (ticket, events);
        }

        if (tasks.Count == 0)
        {
            var answers = ticket.Catalog?.Variables ?? new Dictionary<string, JsonElement>();
            var number = 0;
            foreach (var definition in fulfilment.Plan.OrderBy(d => d.Stage))
            {
                var skipped = !CatalogVariables.Holds(definition.When, answers);
                tasks.Add(new FulfilmentTask
                {
                    Key = definition.Key,
                    Number = $"{ticket.Number}-T{++number}",
                    Name = definition.Name,
                    Description = definition.Description,
                    AssignmentGroup = definition.AssignmentGroup,
                    Stage = definition.Stage,
                    State = skipped ? FulfilmentTaskState.Skipped : FulfilmentTaskState.Pending,
                    ClosedAt = skipped ? at : null,
                    ClosedBy = skipped ? Actor : null,
                    Notes = skipped ? $"Not needed: {definition.When!.Variable} is not {string.Join(" or ", definition.When.Values)}." : null,
                    Changed = true,
                });
                if (skipped)
                {
                    events.Add(("task.skipped", tasks[^1]));
                }
            }

            events.Insert(0, ("fulfilment.started", null));
            fulfilment = fulfilment with { StartedAt = at };
            if (ticket.State == TicketState.New)
            {
                ticket = ticket with { State = TicketState.InProgress, HoldReason = null };
            }
        }

        var activeStage = tasks.Where(t => !t.IsFinished).Select(t => (int?)t.Stage).Min();
        if (activeStage is { } stage)
        {
            for (var i = 0; i < tasks.Count; i++)
            {
                if (tasks[i].Stage == stage && tasks[i].State == FulfilmentTaskState.Pending)
                {
                    tasks[i] = tasks[i] with { State = FulfilmentTaskState.Open, OpenedAt = at, Changed = true };
                    events.Add(("task.opened", tasks[i]));
                }
            }

            return (ticket with { Fulfilment = fulfilment with { Tasks = tasks } }, events);
        }

        // Every task is finished: the request is fulfilled.
        var partly = tasks.Any(t => t.State == FulfilmentTaskState.Cancelled);
        var resolved = TicketLifecycle.Apply(
            ticket,
            new TransitionRequest(
                "resolve",
                ResolutionCode: partly ? PartlyFulfilledCode : FulfilledCode,
                ResolutionNotes: partly
                    ? $"Fulfilment finished; cancelled tasks: {string.Join(", ", tasks.Where(t => t.State == FulfilmentTaskState.Cancelled).Select(t => $"{t.Number} {t.Name}"))}."
                    : "Every fulfilment task is closed."),
            Actor,
            at,
            TicketPolicy.Default);
        var finished = fulfilment with { Tasks = tasks, FinishedAt = at };
        events.Add(("fulfilment.finished", null));
        return ((resolved.Value ?? ticket) with { Fulfilment = finished }, events);
    }

    /// <summary>
    /// An agent's action on one task: <c>assign</c> (an assignee, or null to clear), <c>start</c> (in progress, assigned
    /// to the caller unless assigned), <c>close</c> (notes required) or <c>cancel</c> (a reason required). The conflict,
    /// when the task's state does not allow it.
    /// </summary>
    public static RuleOutcome<Ticket> Act(Ticket ticket, string key, string action, PersonRef actor, PersonRef? assignee, string? notes, DateTimeOffset at)
    {
        if (ticket.Fulfilment?.Tasks.FirstOrDefault(t => t.Key == key) is not { } task)
        {
            return RuleOutcome<Ticket>.NotAllowed($"{ticket.Number} has no task '{key}'.");
        }

        if (task.IsFinished)
        {
            return RuleOutcome<Ticket>.NotAllowed($"{task.Number} is {task.State}.");
        }

        if (task.State == FulfilmentTaskState.Pending && action != "assign")
        {
            return RuleOutcome<Ticket>.NotAllowed($"{task.Number} waits for the tasks of stage {task.Stage - 1} and earlier; it opens when they are finished.");
        }

        FulfilmentTask next;
        switch (action)
        {
            case "assign":
                next = task with { Assignee = assignee };
                break;
            case "start":
                if (task.State == FulfilmentTaskState.InProgress)
                {
                    return RuleOutcome<Ticket>.NotAllowed($"{task.Number} is already in progress.");
                }

                next = task with { State = FulfilmentTaskState.InProgress, Assignee = task.Assignee ?? actor };
                break;
            case "close" or "cancel":
                if (string.IsNullOrWhiteSpace(notes))
                {
                    return RuleOutcome<Ticket>.Invalid(new Dictionary<string, string[]>
                    {
                        [action == "close" ? "notes" : "reason"] = [action == "close" ? "Closing a task needs notes saying what was done." : "Cancelling a task needs a reason."],
                    });
                }

                next = task with
                {
                    State = action == "close" ? FulfilmentTaskState.Closed : FulfilmentTaskState.Cancelled,
                    ClosedAt = at,
                    ClosedBy = actor.Id,
                    Notes = notes.Trim(),
                    Assignee = task.Assignee ?? (action == "close" ? actor : null),
                };
                break;
            default:
                return RuleOutcome<Ticket>.NotAllowed($"A task has no action '{action}'; its actions are {string.Join(", ", TaskActions)}.");
        }

        var fulfilment = ticket.Fulfilment with { Tasks = ticket.Fulfilment.Tasks.Select(t => t.Key == key ? next with { Changed = true } : t).ToArray() };
        return RuleOutcome<Ticket>.Ok(ticket with { Fulfilment = fulfilment, UpdatedAt = at });
    }

    /// <summary>The task-level changes between two versions of a task, for its audit event.</summary>
    public static IReadOnlyList<FieldChange> Changes(FulfilmentTask? before, FulfilmentTask after)
    {
        var changes = new List<FieldChange> { new("task", null, JsonSerializer.SerializeToElement(after.Number)) };
        void Add<T>(string field, T old, T now)
        {
            if (!EqualityComparer<T>.Default.Equals(old, now))
            {
                changes.Add(new FieldChange(field, old is null ? null : JsonSerializer.SerializeToElement(old, Hosting.HttpResults.Json), now is null ? null : JsonSerializer.SerializeToElement(now, Hosting.HttpResults.Json)));
            }
        }

        Add("state", before?.State, after.State);
        Add("assignee", before?.Assignee?.Id, after.Assignee?.Id);
        Add("notes", before?.Notes, after.Notes);
        if (before is null)
        {
            Add("assignmentGroup", null, after.AssignmentGroup);
        }

        return changes;
    }
}

/// <summary>
/// A fulfilment task as its group's queue sees it (<c>GET /api/catalog/tasks</c>): a copy kept in the request's partition
/// and written in the same transaction as the request, so queue and request never disagree.
/// </summary>
public sealed record CatalogTaskRecord : ITicketProjection
{
    public const string DocumentType = "catalog-task";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public required string TicketId { get; init; }

    public string DocType => DocumentType;

    public required string Key { get; init; }

    public required string Number { get; init; }

    public required string RequestNumber { get; init; }

    public required string RequestTitle { get; init; }

    public required string Name { get; init; }

    public required string AssignmentGroup { get; init; }

    public PersonRef? Assignee { get; init; }

    public required string State { get; init; }

    public required int Stage { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    public int Sequence { get; init; }

    public ITicketRecord WithSequence(int sequence) => this with { Sequence = sequence };

    public static CatalogTaskRecord From(Ticket ticket, FulfilmentTask task, DateTimeOffset at) => new()
    {
        Id = "task:" + task.Key,
        TenantId = ticket.TenantId,
        TicketId = ticket.Id,
        Key = task.Key,
        Number = task.Number,
        RequestNumber = ticket.Number,
        RequestTitle = ticket.Title,
        Name = task.Name,
        AssignmentGroup = task.AssignmentGroup,
        Assignee = task.Assignee,
        State = task.State.ToString(),
        Stage = task.Stage,
        CreatedAt = task.OpenedAt ?? at,
        UpdatedAt = at,
    };
}

/// <summary>
/// The fulfilment rule inside every ticket write (after the approval gate, before the SLA clocks): moves the tasks as
/// <see cref="FulfilmentRules.Advance"/> says, writes an audit event per move and the queue copy of every task that
/// changed, all in the write's own transaction.
/// </summary>
public sealed class FulfilmentWriteRule : ITicketWriteRule
{
    public int Order => -50;

    public Task<(Ticket Ticket, IReadOnlyList<ITicketRecord> Records)> ApplyAsync(Ticket ticket, CancellationToken cancellationToken)
    {
        if (ticket.Fulfilment is null)
        {
            return Task.FromResult<(Ticket, IReadOnlyList<ITicketRecord>)>((ticket, []));
        }

        var (advanced, events) = FulfilmentRules.Advance(ticket, ticket.UpdatedAt);
        var records = new List<ITicketRecord>();
        var stateChanges = TicketAudit.Diff(ticket, advanced);
        foreach (var (action, task) in events)
        {
            var changes = task is null ? stateChanges : FulfilmentRules.Changes(ticket.Fulfilment.Tasks.FirstOrDefault(t => t.Key == task.Key), task);
            records.Add(new AuditEvent
            {
                Id = Guid.NewGuid().ToString("N"),
                TenantId = ticket.TenantId,
                TicketId = ticket.Id,
                At = ticket.UpdatedAt,
                Actor = FulfilmentRules.Actor,
                Channel = FulfilmentRules.Channel,
                Action = action,
                Changes = changes,
            });
        }

        var tasks = advanced.Fulfilment!.Tasks;
        records.AddRange(tasks.Where(t => t.Changed).Select(t => CatalogTaskRecord.From(advanced, t, ticket.UpdatedAt)));
        var cleared = advanced with { Fulfilment = advanced.Fulfilment with { Tasks = tasks.Select(t => t.Changed ? t with { Changed = false } : t).ToArray() } };
        return Task.FromResult<(Ticket, IReadOnlyList<ITicketRecord>)>((cleared, records));
    }
}

/// <summary>A catalogue request with unfinished tasks is not resolved by hand: it resolves when its last task is closed or cancelled.</summary>
public sealed class FulfilmentTransitionGuard : ITicketTransitionGuard
{
    public Task<string?> RefuseAsync(Ticket ticket, TransitionRequest request, CancellationToken cancellationToken)
    {
        var open = ticket.Fulfilment?.Tasks.Where(t => !t.IsFinished).ToArray() ?? [];
        return Task.FromResult(request.Action == "resolve" && open.Length > 0
            ? $"{ticket.Number} has unfinished fulfilment tasks ({string.Join(", ", open.Select(t => t.Number))}): it is resolved when the last of them is closed or cancelled."
            : null);
    }
}
