using Itsm.Functions.Tickets;

namespace Itsm.Functions.Reports;

/// <summary>
/// Keeps the report counters up to date from ticket writes through the ticket follow-ups (the transactional outbox):
/// every ticket write stores a "report-count" follow-up in its own transaction; carrying it out counts the ticket as
/// it is then (<see cref="ReportStore.CountAsync"/>, idempotent by revision). A crash after the write leaves the
/// follow-up for the 30-second sweep, so no write goes uncounted; counting twice changes nothing.
/// </summary>
public sealed class ReportCounting(ReportStore reports) : ITicketFollowUpSource, ITicketFollowUpHandler
{
    public const string FollowUpKind = "report-count";

    public string Kind => FollowUpKind;

    public IEnumerable<TicketFollowUp> FollowUpsFor(TicketWriteContext context, Ticket after, IReadOnlyList<ITicketRecord> appended) =>
        [TicketFollowUp.Create(FollowUpKind, $"report-count:{after.Revision}", after, new CountRequest(after.Revision), after.UpdatedAt)];

    public Task HandleAsync(TicketFollowUp followUp, CancellationToken cancellationToken) =>
        reports.CountAsync(followUp.TenantId, followUp.TicketId, cancellationToken);

    /// <summary>The payload: the revision written (the handler counts the ticket as stored, which may be later).</summary>
    public sealed record CountRequest(int Revision);
}
