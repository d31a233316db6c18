using Itsm.Functions.Storage.Sqlite;
using Microsoft.Azure.Functions.Worker;
using NCrontab;

namespace Itsm.Functions.Hosting.Standalone;

/// <summary>
/// Fires one <c>[TimerTrigger]</c> function on its NCRONTAB schedule (six fields, seconds first, UTC, as the Functions host reads it). The schedule status (last and next
/// occurrence) is kept in the database, like the host's schedule monitor, so an occurrence missed while
/// the process was down runs once at start with <c>IsPastDue</c> set.
/// </summary>
public sealed class TimerTriggerListener : BackgroundService
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS timer_schedule_status (
            function_name TEXT PRIMARY KEY,
            last_occurrence INTEGER,
            next_occurrence INTEGER NOT NULL,
            last_updated INTEGER NOT NULL);
        """;

    private readonly FunctionDescriptor _function;
    private readonly TimerTriggerAttribute _trigger;
    private readonly CrontabSchedule _schedule;
    private readonly SqliteDatabase _database;
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger<TimerTriggerListener> _logger;

    public TimerTriggerListener(FunctionDescriptor function, SqliteDatabase database, IServiceScopeFactory scopes, TimeProvider time, ILogger<TimerTriggerListener> logger)
    {
        _function = function;
        _trigger = function.Timer!;
        _schedule = ParseSchedule(_trigger.Schedule);
        _database = database;
        _scopes = scopes;
        _time = time;
        _logger = logger;
        _database.EnsureSchema(Schema);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var now = _time.GetUtcNow();
        var status = LoadStatus();
        DateTimeOffset? last = status?.Last;
        DateTimeOffset next;
        if (status is null)
        {
            next = NextOccurrence(now);
            SaveStatus(null, next);
            if (_trigger.RunOnStartup)
            {
                await FireAsync(last, next, isPastDue: false, stoppingToken);
            }
        }
        else
        {
            next = status.Value.Next;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = next - _time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, _time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            var firedAt = _time.GetUtcNow();
            var isPastDue = firedAt - next > TimeSpan.FromSeconds(1);
            var following = NextOccurrence(firedAt > next ? firedAt : next);
            await FireAsync(last, following, isPastDue, stoppingToken);

            // Recorded only after the function ran: a crash mid-run repeats the occurrence (at least once).
            last = next;
            next = following;
            SaveStatus(last, next);
        }
    }

    /// <summary>Parses an NCRONTAB expression as the Functions host does: six fields, seconds first.</summary>
    public static CrontabSchedule ParseSchedule(string expression) =>
        CrontabSchedule.Parse(expression, new CrontabSchedule.ParseOptions { IncludingSeconds = true });

    private DateTimeOffset NextOccurrence(DateTimeOffset after) =>
        new(DateTime.SpecifyKind(_schedule.GetNextOccurrence(after.UtcDateTime), DateTimeKind.Utc));

    private async Task FireAsync(DateTimeOffset? last, DateTimeOffset next, bool isPastDue, CancellationToken stoppingToken)
    {
        var timer = new TimerInfo
        {
            IsPastDue = isPastDue,
            ScheduleStatus = new ScheduleStatus { Last = (last ?? DateTimeOffset.MinValue).UtcDateTime, Next = next.UtcDateTime, LastUpdated = _time.GetUtcNow().UtcDateTime },
        };
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            await FunctionInvoker.InvokeAsync(_function, new InvocationInput(scope.ServiceProvider, stoppingToken, Timer: timer));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            _logger.LogWarning(ex, "Timer function {Function} failed.", _function.Name);
        }
    }

    private (DateTimeOffset? Last, DateTimeOffset Next)? LoadStatus()
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT last_occurrence, next_occurrence FROM timer_schedule_status WHERE function_name = $name";
        command.Parameters.AddWithValue("$name", _function.Name);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        DateTimeOffset? last = reader.IsDBNull(0) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0));
        return (last, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)));
    }

    private void SaveStatus(DateTimeOffset? last, DateTimeOffset next)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO timer_schedule_status(function_name, last_occurrence, next_occurrence, last_updated)
            VALUES ($name, $last, $next, $now)
            ON CONFLICT(function_name) DO UPDATE SET last_occurrence = $last, next_occurrence = $next, last_updated = $now
            """;
        command.Parameters.AddWithValue("$name", _function.Name);
        command.Parameters.AddWithValue("$last", last is { } l ? l.ToUnixTimeMilliseconds() : DBNull.Value);
        command.Parameters.AddWithValue("$next", next.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$now", _time.GetUtcNow().ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }
}
