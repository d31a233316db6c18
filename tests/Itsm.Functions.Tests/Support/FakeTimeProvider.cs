namespace Itsm.Functions.Tests.Support;

/// <summary>A clock the test moves by hand; timers (Task.Delay, PeriodicTimer) fire only when it is advanced past them.</summary>
public sealed class FakeTimeProvider(DateTimeOffset start) : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<FakeTimer> _timers = [];
    private readonly List<(Func<DateTimeOffset, bool> Match, TaskCompletionSource Done)> _timerWaiters = [];
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public void Advance(TimeSpan delta) => SetUtcNow(GetUtcNow() + delta);

    public void SetUtcNow(DateTimeOffset value)
    {
        while (true)
        {
            FakeTimer? due;
            lock (_gate)
            {
                due = _timers.Where(t => t.DueAt <= value).OrderBy(t => t.DueAt).FirstOrDefault();
                if (due is null)
                {
                    _now = value > _now ? value : _now;
                    return;
                }

                _now = due.DueAt > _now ? due.DueAt : _now;
                if (due.Period is { } period && period > TimeSpan.Zero)
                {
                    due.DueAt += period;
                }
                else
                {
                    _timers.Remove(due);
                }
            }

            due.Fire();
        }
    }

    /// <summary>Completes when some timer is scheduled to fire at an instant that matches.</summary>
    public Task WhenTimerScheduled(Func<DateTimeOffset, bool> match)
    {
        lock (_gate)
        {
            if (_timers.Any(t => match(t.DueAt)))
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _timerWaiters.Add((match, done));
            return done.Task;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new FakeTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private void Schedule(FakeTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        List<TaskCompletionSource> toComplete = [];
        lock (_gate)
        {
            _timers.Remove(timer);
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                return;
            }

            timer.DueAt = _now + dueTime;
            timer.Period = period == Timeout.InfiniteTimeSpan ? null : period;
            _timers.Add(timer);
            foreach (var waiter in _timerWaiters.ToArray())
            {
                if (waiter.Match(timer.DueAt))
                {
                    _timerWaiters.Remove(waiter);
                    toComplete.Add(waiter.Done);
                }
            }
        }

        foreach (var done in toComplete)
        {
            done.TrySetResult();
        }
    }

    private void Remove(FakeTimer timer)
    {
        lock (_gate)
        {
            _timers.Remove(timer);
        }
    }

    private sealed class FakeTimer(FakeTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset DueAt { get; set; }

        public TimeSpan? Period { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            owner.Schedule(this, dueTime, period);
            return true;
        }

        public void Fire() => callback(state);

        public void Dispose() => owner.Remove(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
