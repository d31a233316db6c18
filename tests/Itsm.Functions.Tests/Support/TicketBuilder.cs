using Itsm.Functions.Tickets;

namespace Itsm.Functions.Tests.Support;

/// <summary>Test data: a valid ticket with sensible defaults; each With… changes one thing.</summary>
public sealed class TicketBuilder
{
    public static readonly DateTimeOffset Created = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    private Ticket _ticket = new()
    {
        Id = Guid.NewGuid().ToString("N"),
        TenantId = "contoso",
        Number = "INC0001001",
        Type = TicketType.Incident,
        State = TicketState.New,
        Title = "VPN drops every few minutes",
        Impact = 2,
        Urgency = 2,
        Priority = 3,
        Requester = new PersonRef("ana", "Ana Silva", "ana@contoso.com"),
        Channel = "api",
        CreatedAt = Created,
        CreatedBy = "ana",
        UpdatedAt = Created,
    };

    public TicketBuilder OfType(TicketType type)
    {
        _ticket = _ticket with { Type = type, Number = TicketNumbering.Format(type, 0) };
        return this;
    }

    public TicketBuilder InState(TicketState state)
    {
        _ticket = _ticket with { State = state };
        return this;
    }

    public TicketBuilder With(Func<Ticket, Ticket> change)
    {
        _ticket = change(_ticket);
        return this;
    }

    public Ticket Build() => _ticket;

    public static implicit operator Ticket(TicketBuilder builder) => builder.Build();
}
