using Microsoft.DurableTask.Client;
using Itsm.Functions.Security;

namespace Itsm.Functions.Tickets;

/// <summary>
/// A ticket write that has been stored: the version before (null for a new ticket), the version now, who
/// did it and when. <see cref="Durable"/> is the invocation's Durable client when the function declares one.
/// </summary>
public sealed record TicketChange(Ticket? Before, Ticket After, CallerPrincipal Actor, DateTimeOffset At, DurableTaskClient? Durable)
{
    public bool Created => Before is null;
}

/// <summary>
/// A feature that reacts to ticket writes (SLA clocks, notifications). <see cref="TicketService"/> calls every
/// registered observer after each stored write, in registration order. The write is already stored, so an
/// observer that fails is logged and does not undo it or fail the caller's request.
/// </summary>
public interface ITicketChangeObserver
{
    Task OnTicketChangedAsync(TicketChange change, CancellationToken cancellationToken);
}

/// <summary>
/// A feature's veto on a lifecycle action a person asks for through the API, checked after the lifecycle allows it
/// and before anything is written (the approval engine alone authorises a change it is approving). Null allows it;
/// otherwise the sentence the caller gets with a 409.
/// </summary>
public interface ITicketTransitionGuard
{
    Task<string?> RefuseAsync(Ticket ticket, TransitionRequest request, CancellationToken cancellationToken);
}
