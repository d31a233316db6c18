namespace Itsm.Durable;

/// <summary>
/// Why a task (activity, sub-orchestration or orchestration) failed, as carried on the wire in
/// <c>TaskFailureDetails</c>: the full .NET type name of the error, its message and stack trace,
/// and the chain of inner failures.
/// </summary>
public sealed record TaskFailureDetails(
    string ErrorType,
    string ErrorMessage,
    string? StackTrace = null,
    TaskFailureDetails? InnerFailure = null,
    bool IsNonRetriable = false)
{
    /// <summary>Builds failure details from an exception and its inner exceptions.</summary>
    public static TaskFailureDetails FromException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var inner = exception switch
        {
            TaskFailedException failed => failed.FailureDetails,
            { InnerException: { } innerException } => FromException(innerException),
            _ => null,
        };
        return new TaskFailureDetails(
            exception.GetType().FullName ?? exception.GetType().Name,
            exception.Message,
            exception.StackTrace,
            inner);
    }

    /// <summary>True when this failure, or one of its inner failures, was caused by <typeparamref name="TException"/>.</summary>
    public bool IsCausedBy<TException>()
        where TException : Exception
    {
        for (var current = this; current is not null; current = current.InnerFailure)
        {
            if (string.Equals(current.ErrorType, typeof(TException).FullName, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Thrown into orchestrator code when an activity it awaited failed.</summary>
public class TaskFailedException : Exception
{
    public TaskFailedException(string taskName, int taskId, TaskFailureDetails failureDetails)
        : base($"Task '{taskName}' (#{taskId}) failed with an unhandled exception: {failureDetails?.ErrorMessage}")
    {
        ArgumentNullException.ThrowIfNull(failureDetails);
        TaskName = taskName;
        TaskId = taskId;
        FailureDetails = failureDetails;
    }

    public TaskFailedException()
        : this(string.Empty, -1, new TaskFailureDetails(string.Empty, string.Empty))
    {
    }

    public TaskFailedException(string message)
        : this(message, null)
    {
    }

    public TaskFailedException(string message, Exception? innerException)
        : base(message, innerException)
    {
        TaskName = string.Empty;
        TaskId = -1;
        FailureDetails = new TaskFailureDetails(string.Empty, message);
    }

    public string TaskName { get; }

    public int TaskId { get; }

    public TaskFailureDetails FailureDetails { get; }
}

/// <summary>Thrown into orchestrator code when a sub-orchestration it awaited failed.</summary>
public sealed class SubOrchestrationFailedException : TaskFailedException
{
    public SubOrchestrationFailedException(string orchestratorName, int taskId, TaskFailureDetails failureDetails)
        : base(orchestratorName, taskId, failureDetails)
    {
    }

    public SubOrchestrationFailedException()
    {
    }

    public SubOrchestrationFailedException(string message)
        : base(message)
    {
    }

    public SubOrchestrationFailedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
