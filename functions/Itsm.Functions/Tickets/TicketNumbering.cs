using System.Globalization;

namespace Itsm.Functions.Tickets;

/// <summary>Human-readable numbers per tenant and type: INC0001001, REQ0001001, PRB0001001, CHG0001001.</summary>
public static class TicketNumbering
{
    public const int FirstSequence = 1001;

    public static string Prefix(TicketType type) => type switch
    {
        TicketType.Incident => "INC",
        TicketType.ServiceRequest => "REQ",
        TicketType.Problem => "PRB",
        TicketType.Change => "CHG",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>The number for the n-th ticket (0-based) of a type in a tenant.</summary>
    public static string Format(TicketType type, long sequence)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        return Prefix(type) + (FirstSequence + sequence).ToString("D7", CultureInfo.InvariantCulture);
    }

    public static bool TryParse(string number, out TicketType type, out long sequence)
    {
        type = default;
        sequence = -1;
        if (number is not { Length: >= 10 })
        {
            return false;
        }

        foreach (var candidate in Enum.GetValues<TicketType>())
        {
            if (number.StartsWith(Prefix(candidate), StringComparison.OrdinalIgnoreCase)
                && long.TryParse(number.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                && value >= FirstSequence)
            {
                type = candidate;
                sequence = value - FirstSequence;
                return true;
            }
        }

        return false;
    }
}
