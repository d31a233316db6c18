using Itsm.Functions.Tickets;

namespace Itsm.Functions.Reports;

/// <summary>
/// The little a ticket remembers of its own past for reports: how often it was reopened, how often it moved to another
/// assignment group, and its last wait for an approval. Kept on the ticket by <see cref="ReportMarksRule"/> inside every
/// write, so a report fact can be computed from the ticket alone (in any order, any number of times).
/// </summary>
public sealed record ReportMarks
{
    /// <summary>Times the ticket went from resolved or closed back to open.</summary>
    public int Reopens { get; init; }

    /// <summary>Times the assignment group changed from one group to another.</summary>
    public int GroupChanges { get; init; }

    /// <summary>The group at the last write (to see the next change).</summary>
    public string? LastGroup { get; init; }

    /// <summary>Whether the ticket was finished (resolved, closed or cancelled) at the last write.</summary>
    public bool WasFinished { get; init; }

    /// <summary>Whether the ticket waited for an approval at the last write (a change in Authorize, a request on hold AwaitingApproval).</summary>
    public bool AwaitingApproval { get; init; }

    /// <summary>When its latest wait for an approval began.</summary>
    public DateTimeOffset? ApprovalRequestedAt { get; init; }

    /// <summary>When that wait ended (approved, rejected or cancelled); null while it lasts.</summary>
    public DateTimeOffset? ApprovalDecidedAt { get; init; }

    /// <summary>The marks after a write that produced <paramref name="ticket"/> (at its <see cref="Ticket.UpdatedAt"/>). Pure.</summary>
    public static ReportMarks Next(ReportMarks? marks, Ticket ticket)
    {
        var before = marks ?? new ReportMarks { LastGroup = ticket.AssignmentGroup };
        var finished = !ticket.IsOpen;
        var awaiting = ticket.State == TicketState.Authorize || ticket.HoldReason == HoldReason.AwaitingApproval;
        var next = before with
        {
            Reopens = before.Reopens + (marks is not null && before.WasFinished && !finished ? 1 : 0),
            GroupChanges = before.GroupChanges + (before.LastGroup is not null && ticket.AssignmentGroup is not null && !string.Equals(before.LastGroup, ticket.AssignmentGroup, StringComparison.Ordinal) ? 1 : 0),
            LastGroup = ticket.AssignmentGroup ?? before.LastGroup,
            WasFinished = finished,
            AwaitingApproval = awaiting,
        };
        if (awaiting && !before.AwaitingApproval)
        {
            next = next with { ApprovalRequestedAt = ticket.UpdatedAt, ApprovalDecidedAt = null };
        }
        else if (!awaiting && before.AwaitingApproval)
        {
            next = next with { ApprovalDecidedAt = ticket.UpdatedAt };
        }

        return next;
    }
}

/// <summary>Keeps <see cref="Ticket.Marks"/> in every ticket write, after the rules that may change the state.</summary>
public sealed class ReportMarksRule : ITicketWriteRule
{
    public int Order => 1000;

    public Task<(Ticket Ticket, IReadOnlyList<ITicketRecord> Records)> ApplyAsync(Ticket ticket, CancellationToken cancellationToken) =>
        Task.FromResult<(Ticket, IReadOnlyList<ITicketRecord>)>((ticket with { Marks = ReportMarks.Next(ticket.Marks, ticket) }, []));
}
