using Itsm.Functions.Hosting;
using Itsm.Functions.Security;

namespace Itsm.Functions.Tickets;

/// <summary>Reading ticket fields from a request body, with the rules on who may set what.</summary>
public static class TicketInput
{
    /// <summary>Fields a requester may set when raising a ticket.</summary>
    public static readonly IReadOnlySet<string> RequesterFields = new HashSet<string>(StringComparer.Ordinal)
    {
        "type", "title", "description", "impact", "urgency", "category", "affectedService", "configurationItems", "customFields",
    };

    /// <summary>Fields an agent may set (on create; on update all but type and requester).</summary>
    public static readonly IReadOnlySet<string> AgentFields = new HashSet<string>(RequesterFields, StringComparer.Ordinal)
    {
        "majorIncident", "requester", "assignmentGroup", "assignee", "watchers", "tags", "problem", "change",
    };

    private static readonly TicketType[] RequesterTypes = [TicketType.Incident, TicketType.ServiceRequest];

    /// <summary>The fields in the body the caller's role may not set, each with the reason.</summary>
    public static Dictionary<string, string[]> ForbiddenFields(JsonBodyReader body, CallerPrincipal caller, bool creating)
    {
        var allowed = caller.IsAgent ? AgentFields : RequesterFields;
        var forbidden = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var name in body.PresentNames)
        {
            if (!creating && name is "type" or "requester")
            {
                forbidden[name] = [$"'{name}' cannot be changed after the ticket is raised."];
            }
            else if (AgentFields.Contains(name) && !allowed.Contains(name))
            {
                forbidden[name] = [$"Your role may not set '{name}'."];
            }
        }

        return forbidden;
    }

    /// <summary>Reads the fields of a new ticket; errors go to the reader.</summary>
    public static Ticket ReadNew(JsonBodyReader body, CallerPrincipal caller, string id, string number, TicketType type, DateTimeOffset now, PriorityMatrix matrix)
    {
        var requester = caller.IsAgent ? ReadPerson(body, "requester") : null;
        var ticket = new Ticket
        {
            Id = id,
            TenantId = caller.TenantId,
            Number = number,
            Type = type,
            State = TicketState.New,
            Title = "",
            Impact = 3,
            Urgency = 3,
            Priority = matrix.PriorityFor(3, 3),
            Requester = requester ?? new PersonRef(caller.UserId, caller.Name, caller.Email),
            Channel = "api",
            CreatedAt = now,
            CreatedBy = caller.UserId,
            UpdatedAt = now,
            Problem = type == TicketType.Problem ? new ProblemRecord() : null,
            Change = type == TicketType.Change ? new ChangeRecord() : null,
        };
        return Apply(ticket, body, creating: true, matrix);
    }

    /// <summary>The type of a new ticket, which decides numbering and which fields apply.</summary>
    public static TicketType? ReadType(JsonBodyReader body, CallerPrincipal caller) =>
        body.Enum("type", required: true, allowed: caller.IsAgent ? null : RequesterTypes);

    /// <summary>Applies present fields (merge-patch: null clears an optional field). Errors go to the reader.</summary>
    public static Ticket Apply(Ticket ticket, JsonBodyReader body, bool creating, PriorityMatrix matrix)
    {
        var title = body.String("title", required: creating, maxLength: 200);
        var impact = body.Int("impact", 1, 3);
        var urgency = body.Int("urgency", 1, 3);
        var next = ticket with
        {
            Title = title ?? ticket.Title,
            Description = Optional(body, "description", ticket.Description, 10_000, multiLine: true),
            Impact = impact ?? ticket.Impact,
            Urgency = urgency ?? ticket.Urgency,
            MajorIncident = body.Bool("majorIncident") ?? ticket.MajorIncident,
            AssignmentGroup = Optional(body, "assignmentGroup", ticket.AssignmentGroup, 100),
            Category = Optional(body, "category", ticket.Category, 100),
            AffectedService = Optional(body, "affectedService", ticket.AffectedService, 100),
            ConfigurationItems = body.StringList("configurationItems", 50) ?? ticket.ConfigurationItems,
            Watchers = body.StringList("watchers", 50) ?? ticket.Watchers,
            Tags = body.StringList("tags", 20, 50) ?? ticket.Tags,
            CustomFields = body.CustomFields("customFields") ?? ticket.CustomFields,
        };
        // Priority comes from impact x urgency when they are set or change. An escalated priority (an SLA breach raises
        // it) holds through edits of other fields: changing impact or urgency is how an agent sets it on purpose.
        if (creating || next.Impact != ticket.Impact || next.Urgency != ticket.Urgency)
        {
            next = next with { Priority = matrix.PriorityFor(next.Impact, next.Urgency) };
        }
        if (!creating || body.Has("assignee"))
        {
            next = next with { Assignee = body.IsExplicitNull("assignee") ? null : ReadPerson(body, "assignee") ?? ticket.Assignee };
        }

        if (creating)
        {
            body.Has("type");
            body.Has("requester");
        }

        if (body.Has("priority"))
        {
            body.AddError("priority", "cannot be set: it comes from impact and urgency through the tenant's priority matrix. To change it, change impact or urgency (agents, PATCH). A priority raised by an SLA breach holds until then.");
        }

        if (body.Has("majorIncident") && next.Type != TicketType.Incident)
        {
            body.AddError("majorIncident", "Only incidents can be major incidents.");
        }

        var problem = body.Object("problem");
        if (problem is not null)
        {
            if (next.Type != TicketType.Problem)
            {
                body.AddError("problem", "Only problems have root cause and workaround.");
            }

            var current = next.Problem ?? new ProblemRecord();
            next = next with
            {
                Problem = current with
                {
                    RootCause = Optional(problem, "rootCause", current.RootCause, 4000, multiLine: true),
                    Workaround = Optional(problem, "workaround", current.Workaround, 4000, multiLine: true),
                },
            };
            if (problem.Has("knownError"))
            {
                problem.AddError("knownError", "Use the 'mark-known-error' action, which checks for a workaround.");
            }

            problem.RejectUnknown();
        }

        var change = body.Object("change");
        if (change is not null)
        {
            if (next.Type != TicketType.Change)
            {
                body.AddError("change", "Only changes have a plan and a window.");
            }

            var current = next.Change ?? new ChangeRecord();
            var updated = current with
            {
                ChangeType = change.Enum<ChangeType>("changeType") ?? current.ChangeType,
                PlannedStart = change.IsExplicitNull("plannedStart") ? null : change.Instant("plannedStart") ?? current.PlannedStart,
                PlannedEnd = change.IsExplicitNull("plannedEnd") ? null : change.Instant("plannedEnd") ?? current.PlannedEnd,
                ImplementationPlan = Optional(change, "implementationPlan", current.ImplementationPlan, 10_000, multiLine: true),
                BackoutPlan = Optional(change, "backoutPlan", current.BackoutPlan, 10_000, multiLine: true),
            };
            if (updated.PlannedStart is { } start && updated.PlannedEnd is { } end && end <= start)
            {
                change.AddError("plannedEnd", "must be after plannedStart.");
            }

            if (updated.ChangeType != current.ChangeType && ticket.State != TicketState.New)
            {
                change.AddError("changeType", "can only be changed while the change is New.");
            }
            else if (updated.ChangeType == ChangeType.Standard && current.ChangeType != ChangeType.Standard)
            {
                change.AddError("changeType", "Standard changes are raised from a pre-approved template: POST /api/changes/templates/{id}/changes.");
            }
            else if (updated.ChangeType == ChangeType.Standard && (updated.ImplementationPlan != current.ImplementationPlan || updated.BackoutPlan != current.BackoutPlan))
            {
                change.AddError("implementationPlan", $"A standard change carries the plans of its pre-approved template ({current.Template?.Name ?? "unknown"}); make it a Normal change to change them.");
            }

            if (updated.ChangeType != ChangeType.Standard)
            {
                updated = updated with { Template = null };
            }

            next = next with { Change = updated };
            change.RejectUnknown();
        }

        return next;
    }

    private static PersonRef? ReadPerson(JsonBodyReader body, string name)
    {
        var person = body.Object(name);
        if (person is null)
        {
            return null;
        }

        var id = person.String("id", required: true, maxLength: 100);
        var display = person.String("name", maxLength: 200);
        var email = person.String("email", maxLength: 254);
        person.RejectUnknown();
        return id is null ? null : new PersonRef(id, display, email);
    }

    private static string? Optional(JsonBodyReader body, string name, string? current, int maxLength, bool multiLine = false) =>
        body.IsExplicitNull(name) ? null : body.String(name, maxLength: maxLength, multiLine: multiLine) ?? current;
}
