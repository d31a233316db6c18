using Itsm.Functions.Reports;
using Itsm.Functions.Storage;

namespace Itsm.Functions.Surveys;

/// <summary>
/// The satisfaction report's figures: answered surveys by the UTC day they were answered, grouped like every other
/// report (the period's first day, or the ticket's type, priority, group, service or category when it was resolved).
/// Read from the surveys themselves, one query over the tenant's partition, since a tenant answers far fewer surveys
/// than it writes tickets.
/// </summary>
public sealed class SurveySatisfaction(SurveyStore store) : ISatisfactionSource
{
    public async Task<IReadOnlyList<(string Key, long Answers, double ScoreSum)>> AnswersAsync(string tenantId, ReportQuery query, CancellationToken cancellationToken)
    {
        var from = new DateTimeOffset(query.From.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var until = new DateTimeOffset(query.To.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var sums = new SortedDictionary<string, (long Answers, double ScoreSum)>(StringComparer.Ordinal);
        string? continuation = null;
        do
        {
            var page = await store.QueryAsync(
                tenantId,
                [
                    new QueryFilter("state", FilterOperator.Equals, nameof(SurveyState.Answered)),
                    new QueryFilter("answeredAt", FilterOperator.GreaterThanOrEqual, from),
                    new QueryFilter("answeredAt", FilterOperator.LessThan, until),
                ],
                new QuerySort("answeredAt", Descending: false),
                500,
                continuation,
                cancellationToken);
            foreach (var survey in page.Items.Select(i => i.Document))
            {
                if (survey is not { Rating: { } rating, AnsweredAt: { } answeredAt })
                {
                    continue;
                }

                var key = query.By is { } dimension
                    ? ReportDimensions.Of(dimension, survey.TicketType, survey.Priority, survey.Group, survey.Service, survey.Category)
                    : ReportQuery.Text(query.PeriodOf(DateOnly.FromDateTime(answeredAt.UtcDateTime)));
                var (answers, scoreSum) = sums.GetValueOrDefault(key);
                sums[key] = (answers + 1, scoreSum + rating);
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);

        return [.. sums.Select(s => (s.Key, s.Value.Answers, s.Value.ScoreSum))];
    }
}
