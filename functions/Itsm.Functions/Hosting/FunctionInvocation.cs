using System.Text.Json;
using System.Text.Json.Nodes;

namespace Itsm.Functions.Hosting;

/// <summary>What a function sees of one invocation: decoded binding values, metadata, services, a log.</summary>
public sealed class FunctionInvocation(
    FunctionDefinition function,
    InvocationRequest request,
    string invocationId,
    IServiceProvider services,
    CancellationToken cancellationToken)
{
    private readonly List<string> _logs = [];

    public FunctionDefinition Function { get; } = function;

    public string InvocationId { get; } = invocationId;

    public IServiceProvider Services { get; } = services;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public IReadOnlyList<string> Logs => _logs;

    /// <summary>The raw (still encoded) envelope.</summary>
    public InvocationRequest Request { get; } = request;

    /// <summary>A binding value from <c>Data</c>, with the host's string encoding undone.</summary>
    public JsonElement? GetData(string bindingName) =>
        Request.Data.TryGetValue(bindingName, out var value) ? InvocationEnvelope.DecodeValue(value) : null;

    /// <summary>A trigger metadata value, with the host's string encoding undone.</summary>
    public JsonElement? GetMetadata(string key) =>
        Request.Metadata.TryGetValue(key, out var value) ? InvocationEnvelope.DecodeValue(value) : null;

    public void Log(string message) => _logs.Add(message);

    public InvocationResult Succeeded(JsonNode? returnValue = null, IReadOnlyDictionary<string, JsonNode?>? outputs = null) =>
        new(outputs ?? new Dictionary<string, JsonNode?>(), _logs.ToArray(), returnValue);
}

/// <summary>
/// The outcome of a function that ran to the end. A function that fails throws; the dispatcher then answers
/// a non-2xx status, which the Functions host treats as a failed invocation (a queue message is then
/// abandoned and retried).
/// </summary>
public sealed record InvocationResult(
    IReadOnlyDictionary<string, JsonNode?> Outputs,
    IReadOnlyList<string> Logs,
    JsonNode? ReturnValue);
