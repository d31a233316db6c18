namespace Itsm.Functions.Tickets;

/// <summary>
/// Impact x urgency -> priority (1 = critical .. 5 = planning). Impact and urgency run 1 (high) to 3 (low).
/// The default is the common 3x3 matrix of ServiceNow and Jira Service Management; a tenant may replace it.
/// </summary>
public sealed record PriorityMatrix(int[][] Cells)
{
    public static readonly PriorityMatrix Default = new([
        [1, 2, 3],
        [2, 3, 4],
        [3, 4, 5],
    ]);

    public const int Levels = 3;

    public int PriorityFor(int impact, int urgency)
    {
        if (impact is < 1 or > Levels)
        {
            throw new ArgumentOutOfRangeException(nameof(impact), impact, "Impact runs from 1 (high) to 3 (low).");
        }

        if (urgency is < 1 or > Levels)
        {
            throw new ArgumentOutOfRangeException(nameof(urgency), urgency, "Urgency runs from 1 (high) to 3 (low).");
        }

        return Cells[impact - 1][urgency - 1];
    }

    /// <summary>A tenant's matrix must be 3x3 with priorities 1..5 that never improve as impact or urgency drop.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Cells.Length != Levels || Cells.Any(row => row is null || row.Length != Levels))
        {
            return ["The matrix must have 3 rows (impact 1-3) of 3 priorities (urgency 1-3)."];
        }

        for (var i = 0; i < Levels; i++)
        {
            for (var u = 0; u < Levels; u++)
            {
                if (Cells[i][u] is < 1 or > 5)
                {
                    errors.Add($"Impact {i + 1}, urgency {u + 1}: priority must be 1-5.");
                }

                if ((i > 0 && Cells[i][u] < Cells[i - 1][u]) || (u > 0 && Cells[i][u] < Cells[i][u - 1]))
                {
                    errors.Add($"Impact {i + 1}, urgency {u + 1}: a lower impact or urgency cannot give a higher priority.");
                }
            }
        }

        return errors;
    }
}
