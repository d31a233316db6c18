namespace Itsm.Functions.Sla;

/// <summary>
/// The arithmetic behind <see cref="BusinessCalendar"/>. An instant is business time when the wall clock of the
/// calendar's zone shows a working time of that local date. The walk goes forward through stretches of constant
/// UTC offset; inside one, local time runs linearly, so working intervals map to instants by subtracting the
/// offset. A local time skipped by a spring-forward change is never shown, so it is not worked; a local time
/// repeated by a fall-back change is shown twice, so it is worked twice. Whole weeks without holidays, exceptions
/// or offset changes are skipped in one step.
/// </summary>
internal sealed class BusinessTime
{
    /// <summary>Offsets are sampled this far apart: two changes that cancel out within it would go unseen (none exists).</summary>
    private static readonly TimeSpan OffsetProbe = TimeSpan.FromHours(12);
    private static readonly TimeSpan FirstSegmentLookahead = TimeSpan.FromDays(3);
    private static readonly TimeSpan MaxSegmentLookahead = TimeSpan.FromDays(96);

    private readonly TimeZoneInfo _zone;
    private readonly WorkingInterval[][] _weekly = new WorkingInterval[7][];
    private readonly Dictionary<DateOnly, WorkingInterval[]> _exceptions;
    private readonly HashSet<DateOnly> _holidays;
    private readonly HashSet<RecurringHoliday> _recurring;
    private readonly TimeSpan _weekTotal;

    private BusinessTime(BusinessCalendar calendar)
    {
        _zone = TimeZoneInfo.FindSystemTimeZoneById(calendar.TimeZoneId);
        foreach (var day in Enum.GetValues<DayOfWeek>())
        {
            _weekly[(int)day] = calendar.WeeklyHours.TryGetValue(day, out var hours) ? [.. hours.OrderBy(h => h.Start)] : [];
            _weekTotal += _weekly[(int)day].Aggregate(TimeSpan.Zero, (sum, h) => sum + h.Length);
        }

        _exceptions = (calendar.Exceptions ?? []).ToDictionary(e => e.Date, e => e.Hours.OrderBy(h => h.Start).ToArray());
        _holidays = [.. calendar.Holidays ?? []];
        _recurring = [.. calendar.RecurringHolidays ?? []];
    }

    public static BusinessTime For(BusinessCalendar calendar)
    {
        var errors = calendar.Validate();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(
                "The business calendar is invalid: " + string.Join(" ", errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}"))));
        }

        return new BusinessTime(calendar);
    }

    public DateTimeOffset Add(DateTimeOffset start, TimeSpan duration)
    {
        var from = start.ToUniversalTime();
        if (duration == TimeSpan.Zero)
        {
            return from;
        }

        var adder = new Adder(duration);
        if (!Walk(from, LimitAfter(from, BusinessCalendar.Horizon), adder))
        {
            throw new InvalidOperationException(
                $"The calendar has less than {duration} of business time in the {BusinessCalendar.Horizon.TotalDays:0} days after {from:O}.");
        }

        return adder.Result;
    }

    public TimeSpan Between(DateTimeOffset from, DateTimeOffset to)
    {
        var counter = new Counter();
        Walk(from.ToUniversalTime(), to.ToUniversalTime(), counter);
        return counter.Total;
    }

    /// <summary>The working stretches in <c>[from, to)</c>, back-to-back ones joined, at most <paramref name="max"/>.</summary>
    public IReadOnlyList<(DateTimeOffset Start, DateTimeOffset End)> Stretches(DateTimeOffset from, DateTimeOffset to, int max)
    {
        var collector = new Collector(max);
        Walk(from.ToUniversalTime(), to.ToUniversalTime(), collector);
        return collector.Stretches;
    }

    private static DateTimeOffset LimitAfter(DateTimeOffset from, TimeSpan span)
    {
        var last = DateTimeOffset.MaxValue.AddDays(-2);
        return from > last - span ? last : from + span;
    }

    /// <summary>Feeds the working stretches in <c>[from, limit)</c> to <paramref name="sink"/> in order; true when the sink is done.</summary>
    private bool Walk(DateTimeOffset from, DateTimeOffset limit, ISink sink)
    {
        var t = from;
        var lookahead = FirstSegmentLookahead;
        while (t < limit)
        {
            var offset = _zone.GetUtcOffset(t);
            var end = SameOffsetUntil(t, limit - t > lookahead ? t + lookahead : limit, offset);
            if (WalkSegment(t, end, offset, sink))
            {
                return true;
            }

            t = end;
            lookahead = lookahead * 2 > MaxSegmentLookahead ? MaxSegmentLookahead : lookahead * 2;
        }

        return false;
    }

    private bool WalkSegment(DateTimeOffset from, DateTimeOffset to, TimeSpan offset, ISink sink)
    {
        var localEnd = to.UtcDateTime + offset;
        var cursor = from.UtcDateTime + offset;
        var date = DateOnly.FromDateTime(cursor);
        while (cursor < localEnd)
        {
            var midnight = date.ToDateTime(TimeOnly.MinValue);
            if (cursor == midnight && midnight.AddDays(7) <= localEnd && IsPlainWeek(date)
                && sink.Week(_weekTotal))
            {
                date = date.AddDays(7);
                cursor = date.ToDateTime(TimeOnly.MinValue);
                continue;
            }

            foreach (var hours in HoursOn(date))
            {
                var start = midnight + hours.Start;
                var end = midnight + hours.End;
                start = start < cursor ? cursor : start;
                end = end > localEnd ? localEnd : end;
                if (start < end && sink.Piece(ToInstant(start, offset), ToInstant(end, offset)))
                {
                    return true;
                }
            }

            date = date.AddDays(1);
            cursor = date.ToDateTime(TimeOnly.MinValue);
        }

        return false;
    }

    private WorkingInterval[] HoursOn(DateOnly date)
    {
        if (_exceptions.TryGetValue(date, out var hours))
        {
            return hours;
        }

        return IsHoliday(date) ? [] : _weekly[(int)date.DayOfWeek];
    }

    private bool IsHoliday(DateOnly date) => _holidays.Contains(date) || _recurring.Contains(new RecurringHoliday(date.Month, date.Day));

    private bool IsPlainWeek(DateOnly first)
    {
        for (var i = 0; i < 7; i++)
        {
            var date = first.AddDays(i);
            if (_exceptions.ContainsKey(date) || IsHoliday(date))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The first instant after <paramref name="from"/> (at most <paramref name="max"/>) whose UTC offset differs.</summary>
    private DateTimeOffset SameOffsetUntil(DateTimeOffset from, DateTimeOffset max, TimeSpan offset)
    {
        var probe = from;
        while (probe < max)
        {
            var next = max - probe > OffsetProbe ? probe + OffsetProbe : max;
            if (_zone.GetUtcOffset(next) != offset)
            {
                // Binary search to the tick: the change lies in (probe, next].
                long low = probe.UtcTicks, high = next.UtcTicks;
                while (high - low > 1)
                {
                    var middle = low + ((high - low) / 2);
                    if (_zone.GetUtcOffset(new DateTimeOffset(middle, TimeSpan.Zero)) == offset)
                    {
                        low = middle;
                    }
                    else
                    {
                        high = middle;
                    }
                }

                return new DateTimeOffset(high, TimeSpan.Zero);
            }

            probe = next;
        }

        return max;
    }

    private static DateTimeOffset ToInstant(DateTime local, TimeSpan offset) => new(local.Ticks - offset.Ticks, TimeSpan.Zero);

    private interface ISink
    {
        /// <summary>A working stretch <c>[start, end)</c>; true when the sink needs no more.</summary>
        bool Piece(DateTimeOffset start, DateTimeOffset end);

        /// <summary>A whole ordinary week holding <paramref name="business"/>; true when the sink took it in one step.</summary>
        bool Week(TimeSpan business);
    }

    private sealed class Adder(TimeSpan remaining) : ISink
    {
        private TimeSpan _remaining = remaining;

        public DateTimeOffset Result { get; private set; }

        public bool Piece(DateTimeOffset start, DateTimeOffset end)
        {
            if (end - start >= _remaining)
            {
                Result = start + _remaining;
                return true;
            }

            _remaining -= end - start;
            return false;
        }

        public bool Week(TimeSpan business)
        {
            if (business >= _remaining)
            {
                return false;
            }

            _remaining -= business;
            return true;
        }
    }

    private sealed class Collector(int max) : ISink
    {
        public List<(DateTimeOffset Start, DateTimeOffset End)> Stretches { get; } = [];

        public bool Piece(DateTimeOffset start, DateTimeOffset end)
        {
            if (Stretches.Count > 0 && Stretches[^1].End == start)
            {
                Stretches[^1] = (Stretches[^1].Start, end);
                return false;
            }

            if (Stretches.Count == max)
            {
                return true;
            }

            Stretches.Add((start, end));
            return false;
        }

        // Every stretch is wanted, so whole weeks are walked day by day.
        public bool Week(TimeSpan business) => false;
    }

    private sealed class Counter : ISink
    {
        public TimeSpan Total { get; private set; }

        public bool Piece(DateTimeOffset start, DateTimeOffset end)
        {
            Total += end - start;
            return false;
        }

        public bool Week(TimeSpan business)
        {
            Total += business;
            return true;
        }
    }
}
