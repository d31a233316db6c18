using Itsm.Functions.Tests.Support;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Tests.Tickets;

public class PriorityMatrixTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 2, 2)]
    [InlineData(2, 1, 2)]
    [InlineData(2, 2, 3)]
    [InlineData(1, 3, 3)]
    [InlineData(3, 1, 3)]
    [InlineData(2, 3, 4)]
    [InlineData(3, 2, 4)]
    [InlineData(3, 3, 5)]
    public void The_default_matrix_gives_the_anchors_priorities(int impact, int urgency, int priority)
    {
        Assert.Equal(priority, PriorityMatrix.Default.PriorityFor(impact, urgency));
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(4, 2)]
    [InlineData(2, 0)]
    public void Impact_and_urgency_outside_one_to_three_are_refused(int impact, int urgency)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PriorityMatrix.Default.PriorityFor(impact, urgency));
    }

    [Fact]
    public void A_tenant_matrix_where_lower_impact_raises_priority_is_rejected()
    {
        var matrix = new PriorityMatrix([[2, 2, 3], [1, 3, 4], [3, 4, 5]]);

        Assert.Contains(matrix.Validate(), e => e.StartsWith("Impact 2, urgency 1", StringComparison.Ordinal));
        Assert.Empty(PriorityMatrix.Default.Validate());
    }
}

public class TicketNumberingTests
{
    [Theory]
    [InlineData(TicketType.Incident, 0, "INC0001001")]
    [InlineData(TicketType.ServiceRequest, 41, "REQ0001042")]
    [InlineData(TicketType.Problem, 0, "PRB0001001")]
    [InlineData(TicketType.Change, 9_998_998, "CHG9999999")]
    public void Numbers_carry_the_type_prefix_and_seven_digits_from_1001(TicketType type, long sequence, string expected)
    {
        Assert.Equal(expected, TicketNumbering.Format(type, sequence));
        Assert.True(TicketNumbering.TryParse(expected, out var parsedType, out var parsedSequence));
        Assert.Equal((type, sequence), (parsedType, parsedSequence));
    }

    [Theory]
    [InlineData("INC000100")]
    [InlineData("XYZ0001001")]
    [InlineData("INC0000999")]
    [InlineData("INC00010O1")]
    public void Malformed_numbers_do_not_parse(string number)
    {
        Assert.False(TicketNumbering.TryParse(number, out _, out _));
    }
}

public class TicketLifecycleTests
{
    private static readonly DateTimeOffset Now = TicketBuilder.Created.AddHours(2);

    private static RuleOutcome<Ticket> Apply(Ticket ticket, TransitionRequest request) =>
        TicketLifecycle.Apply(ticket, request, "agent-1", Now, TicketPolicy.Default);

    [Fact]
    public void An_incident_goes_new_in_progress_on_hold_resolved_closed()
    {
        Ticket ticket = new TicketBuilder();

        ticket = Apply(ticket, new("start")).Value!;
        ticket = Apply(ticket, new("hold", HoldReason: HoldReason.AwaitingVendor)).Value!;
        Assert.Equal((TicketState.OnHold, HoldReason.AwaitingVendor), (ticket.State, ticket.HoldReason));
        ticket = Apply(ticket, new("resume")).Value!;
        Assert.Null(ticket.HoldReason);
        ticket = Apply(ticket, new("resolve", ResolutionCode: "Fixed", ResolutionNotes: "Replaced the VPN client profile.")).Value!;
        Assert.Equal(new Resolution("Fixed", "Replaced the VPN client profile.", Now, "agent-1"), ticket.Resolution);
        ticket = Apply(ticket, new("close")).Value!;

        Assert.Equal(TicketState.Closed, ticket.State);
        Assert.Equal(Now, ticket.ClosedAt);
    }

    [Fact]
    public void Resolving_without_code_and_notes_names_both_fields()
    {
        var outcome = Apply(new TicketBuilder().InState(TicketState.InProgress), new("resolve", ResolutionNotes: "  "));

        Assert.False(outcome.Succeeded);
        Assert.Equal(["resolutionCode", "resolutionNotes"], outcome.Errors!.Keys.Order());
    }

    [Fact]
    public void Hold_needs_a_reason()
    {
        var outcome = Apply(new TicketBuilder().InState(TicketState.InProgress), new("hold"));

        Assert.Contains("holdReason", outcome.Errors!.Keys);
    }

    [Fact]
    public void A_closed_incident_cannot_be_reopened_and_the_reason_lists_what_is_possible()
    {
        var outcome = Apply(new TicketBuilder().InState(TicketState.Closed), new("reopen"));

        Assert.NotNull(outcome.Conflict);
        Assert.Contains("cannot 'reopen'", outcome.Conflict, StringComparison.Ordinal);
    }

    [Fact]
    public void A_resolved_incident_reopens_within_the_window_and_not_after()
    {
        var resolved = new TicketBuilder().InState(TicketState.Resolved)
            .With(t => t with { Resolution = new Resolution("Fixed", "done", Now.AddDays(-6), "agent-1") }).Build();
        var tooOld = resolved with { Resolution = resolved.Resolution! with { ResolvedAt = Now.AddDays(-8) } };

        var reopened = Apply(resolved, new("reopen"));
        var refused = Apply(tooOld, new("reopen"));

        Assert.Equal(TicketState.InProgress, reopened.Value!.State);
        Assert.Null(reopened.Value.Resolution);
        Assert.Contains("no longer be reopened", refused.Conflict, StringComparison.Ordinal);
    }

    [Fact]
    public void Cancelling_needs_a_reason()
    {
        Assert.Contains("reason", Apply(new TicketBuilder(), new("cancel")).Errors!.Keys);
        Assert.Equal(TicketState.Cancelled, Apply(new TicketBuilder(), new("cancel", Reason: "raised twice")).Value!.State);
    }

    [Fact]
    public void A_problem_cannot_be_closed_without_a_root_cause()
    {
        var problem = new TicketBuilder().OfType(TicketType.Problem).InState(TicketState.Resolved).Build();

        var outcome = Apply(problem, new("close"));

        Assert.Equal(["A problem cannot be closed without a root cause."], outcome.Errors!["rootCause"]);
    }

    [Fact]
    public void A_problem_records_its_root_cause_when_the_fix_starts_and_becomes_a_known_error_with_a_workaround()
    {
        Ticket problem = new TicketBuilder().OfType(TicketType.Problem).InState(TicketState.RootCauseAnalysis);

        problem = Apply(problem, new("fix", RootCause: "Certificate rotation job skips the VPN gateway.")).Value!;
        var noWorkaround = Apply(problem, new("mark-known-error"));
        problem = Apply(problem, new("mark-known-error", Workaround: "Reconnect after 08:00 UTC.")).Value!;

        Assert.Equal(TicketState.FixInProgress, problem.State);
        Assert.Equal("Certificate rotation job skips the VPN gateway.", problem.Problem!.RootCause);
        Assert.Contains("workaround", noWorkaround.Errors!.Keys);
        Assert.True(problem.Problem.KnownError);
    }

    [Fact]
    public void A_normal_change_needs_a_plan_and_a_window_before_authorisation()
    {
        Ticket change = new TicketBuilder().OfType(TicketType.Change).InState(TicketState.Assess)
            .With(t => t with { Change = new ChangeRecord(PlannedStart: Now.AddDays(2), PlannedEnd: Now.AddDays(1)) });

        var outcome = Apply(change, new("submit"));

        Assert.Equal(["change.backoutPlan", "change.implementationPlan", "change.plannedEnd"], outcome.Errors!.Keys.Order());
    }

    [Fact]
    public void A_normal_change_walks_assess_authorize_scheduled_implement_review_closed()
    {
        Ticket change = new TicketBuilder().OfType(TicketType.Change).With(t => t with
        {
            Change = new ChangeRecord(ChangeType.Normal, Now.AddDays(1), Now.AddDays(1).AddHours(2), "Patch the gateway.", "Restore the snapshot."),
        });

        foreach (var (action, state) in new[] { ("assess", TicketState.Assess), ("submit", TicketState.Authorize), ("authorize", TicketState.Scheduled), ("implement", TicketState.Implement), ("review", TicketState.Review) })
        {
            change = Apply(change, new(action)).Value!;
            Assert.Equal(state, change.State);
        }

        Assert.Contains("reviewOutcome", Apply(change, new("close", ReviewOutcome: "Great")).Errors!.Keys);
        change = Apply(change, new("close", ReviewOutcome: "Successful")).Value!;
        Assert.Equal(("Successful", TicketState.Closed), (change.Change!.ReviewOutcome, change.State));
    }

    [Fact]
    public void A_standard_change_skips_authorisation()
    {
        var change = new TicketBuilder().OfType(TicketType.Change).With(t => t with { Change = new ChangeRecord(ChangeType.Standard) }).Build();

        Assert.Equal(TicketState.Scheduled, Apply(change, new("submit")).Value!.State);
    }

    [Fact]
    public void Actions_of_another_type_are_not_allowed()
    {
        var outcome = Apply(new TicketBuilder(), new("implement"));

        Assert.Equal("'implement' is not an action of an incident.", outcome.Conflict);
    }

    [Fact]
    public void Available_actions_follow_the_state()
    {
        Assert.Equal(["cancel", "hold", "resolve", "start"], TicketLifecycle.AvailableActions(new TicketBuilder()));
        Assert.Empty(TicketLifecycle.AvailableActions(new TicketBuilder().InState(TicketState.Closed)));
    }
}

public class TicketMergeTests
{
    private static readonly DateTimeOffset Now = TicketBuilder.Created.AddHours(1);

    [Fact]
    public void Merging_closes_the_duplicate_and_moves_its_requester_and_watchers_to_the_survivor()
    {
        var survivor = new TicketBuilder().With(t => t with { Number = "INC0001001", Watchers = ["li"] }).Build();
        var duplicate = new TicketBuilder().InState(TicketState.InProgress).With(t => t with
        {
            Number = "INC0001002",
            Requester = new PersonRef("bo"),
            Watchers = ["li", "max"],
        }).Build();

        var (closed, merged) = TicketMerge.Merge(duplicate, survivor, "agent-1", Now).Value;

        Assert.Equal(TicketState.Closed, closed.State);
        Assert.Equal(TicketMerge.DuplicateResolutionCode, closed.Resolution!.Code);
        Assert.Equal(new TicketLink(TicketLinkKind.DuplicateOf, survivor.Id, "INC0001001"), Assert.Single(closed.Links));
        Assert.Equal(["li", "max", "bo"], merged.Watchers);
    }

    [Fact]
    public void A_ticket_cannot_be_merged_into_itself_a_closed_one_or_one_of_another_type()
    {
        var incident = new TicketBuilder().Build();
        var closed = new TicketBuilder().InState(TicketState.Closed).Build();
        var request = new TicketBuilder().OfType(TicketType.ServiceRequest).Build();

        Assert.NotNull(TicketMerge.Merge(incident, incident, "a", Now).Conflict);
        Assert.NotNull(TicketMerge.Merge(incident, closed, "a", Now).Conflict);
        Assert.NotNull(TicketMerge.Merge(incident, request, "a", Now).Conflict);
    }

    [Fact]
    public void Tickets_of_different_tenants_are_never_merged()
    {
        var other = new TicketBuilder().With(t => t with { TenantId = "fabrikam" }).Build();

        Assert.Throws<InvalidOperationException>(() => TicketMerge.Merge(new TicketBuilder(), other, "a", Now));
    }
}

public class TicketAuditTests
{
    [Fact]
    public void The_diff_lists_each_changed_field_with_old_and_new_values()
    {
        var before = new TicketBuilder().Build();
        var after = before with { State = TicketState.InProgress, Assignee = new PersonRef("agent-1"), UpdatedAt = before.UpdatedAt.AddMinutes(5) };

        var changes = TicketAudit.Diff(before, after);

        Assert.Equal(["assignee", "state"], changes.Select(c => c.Field));
        var state = changes.Single(c => c.Field == "state");
        Assert.Equal("New", state.Old!.Value.GetString());
        Assert.Equal("InProgress", state.New!.Value.GetString());
    }

    [Fact]
    public void A_new_ticket_records_every_set_field_as_new()
    {
        var changes = TicketAudit.Diff(null, new TicketBuilder().Build());

        Assert.Contains(changes, c => c.Field == "title" && c.Old is null);
        Assert.DoesNotContain(changes, c => c.Field == "updatedAt");
    }
}
