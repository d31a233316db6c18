using Wire = Itsm.Durable.Protocol;

namespace Itsm.Durable.Replay;

internal static class FailureDetailsMapping
{
    public const string NonDeterminismErrorType = "DurableTask.Core.Exceptions.NonDeterministicOrchestrationException";

    public static Wire.TaskFailureDetails ToWire(this TaskFailureDetails details)
    {
        var wire = new Wire.TaskFailureDetails
        {
            ErrorType = details.ErrorType,
            ErrorMessage = details.ErrorMessage ?? string.Empty,
            StackTrace = details.StackTrace,
            IsNonRetriable = details.IsNonRetriable,
        };
        if (details.InnerFailure is not null)
        {
            wire.InnerFailure = details.InnerFailure.ToWire();
        }

        return wire;
    }

    public static TaskFailureDetails FromWire(Wire.TaskFailureDetails? wire) =>
        wire is null
            ? new TaskFailureDetails("(unknown)", "The failure carried no details.")
            : new TaskFailureDetails(
                wire.ErrorType,
                wire.ErrorMessage,
                wire.StackTrace,
                wire.InnerFailure is null ? null : FromWire(wire.InnerFailure),
                wire.IsNonRetriable);
}
