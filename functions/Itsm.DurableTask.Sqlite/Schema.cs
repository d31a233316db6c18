namespace Itsm.DurableTask.Sqlite;

/// <summary>
/// The tables, shaped like durabletask-mssql's: instances (the lock columns are the orchestration "session"),
/// a per-instance inbox whose <c>visible_at</c> makes durable timers, history rows, and an activity queue with
/// its own locks. Times are UTC ticks from the service's <see cref="TimeProvider"/>.
/// <c>available_at</c> is when an instance or activity may next be fetched: NULL for an instance with an empty
/// inbox, otherwise the later of its earliest visible message and its lock expiry, so one index range
/// (<c>available_at &lt;= now</c>) finds fetchable work and the smallest future value is the next wake-up.
/// </summary>
internal static class Schema
{
    public const int Version = 1;

    public const string Create = """
        CREATE TABLE IF NOT EXISTS dt_meta (
            key TEXT NOT NULL PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS dt_instances (
            instance_id TEXT NOT NULL PRIMARY KEY,
            execution_id TEXT NOT NULL,
            name TEXT NOT NULL,
            version TEXT,
            status INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            last_updated_at INTEGER NOT NULL,
            completed_at INTEGER,
            scheduled_start_at INTEGER,
            input TEXT,
            output TEXT,
            custom_status TEXT,
            failure_details TEXT,
            tags TEXT,
            parent_instance_id TEXT,
            next_visible_at INTEGER,
            lock_owner TEXT,
            lock_expiry INTEGER,
            available_at INTEGER GENERATED ALWAYS AS (max(next_visible_at, coalesce(lock_expiry, 0))) VIRTUAL
        );
        CREATE INDEX IF NOT EXISTS dt_instances_available ON dt_instances (available_at) WHERE available_at IS NOT NULL;
        CREATE INDEX IF NOT EXISTS dt_instances_locked ON dt_instances (lock_owner) WHERE lock_owner IS NOT NULL;
        CREATE INDEX IF NOT EXISTS dt_instances_created ON dt_instances (created_at);

        CREATE TABLE IF NOT EXISTS dt_inbox (
            id INTEGER PRIMARY KEY,
            instance_id TEXT NOT NULL,
            visible_at INTEGER NOT NULL,
            message TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS dt_inbox_instance ON dt_inbox (instance_id, visible_at);

        CREATE TABLE IF NOT EXISTS dt_history (
            instance_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            execution_id TEXT NOT NULL,
            event TEXT NOT NULL,
            PRIMARY KEY (instance_id, seq)
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS dt_activities (
            id INTEGER PRIMARY KEY,
            instance_id TEXT NOT NULL,
            visible_at INTEGER NOT NULL,
            lock_owner TEXT,
            lock_expiry INTEGER,
            dequeue_count INTEGER NOT NULL DEFAULT 0,
            message TEXT NOT NULL,
            available_at INTEGER GENERATED ALWAYS AS (max(visible_at, coalesce(lock_expiry, 0))) VIRTUAL
        );
        CREATE INDEX IF NOT EXISTS dt_activities_available ON dt_activities (available_at);
        CREATE INDEX IF NOT EXISTS dt_activities_locked ON dt_activities (lock_owner) WHERE lock_owner IS NOT NULL;
        CREATE INDEX IF NOT EXISTS dt_activities_instance ON dt_activities (instance_id);

        INSERT INTO dt_meta (key, value) VALUES ('schema_version', '1') ON CONFLICT (key) DO NOTHING;
        """;

    public const string DeleteAll = """
        DELETE FROM dt_instances;
        DELETE FROM dt_inbox;
        DELETE FROM dt_history;
        DELETE FROM dt_activities;
        """;
}
