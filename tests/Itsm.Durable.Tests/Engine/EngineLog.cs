using System.Collections.Concurrent;
using Itsm.Durable.Engine;
using Microsoft.Extensions.Logging;

namespace Itsm.Durable.Tests.Engine;

/// <summary>Collects the engine's log lines (thread-safe); errors are kept apart so tests can insist there were none.</summary>
public sealed class EngineLog : ILogger<EmbeddedDurableEngine>
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ConcurrentQueue<string> Errors { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var line = $"{logLevel}: {formatter(state, exception)}{(exception is null ? string.Empty : $" -- {exception}")}";
        Lines.Enqueue(line);
        if (logLevel >= LogLevel.Error)
        {
            Errors.Enqueue(line);
        }
    }
}
