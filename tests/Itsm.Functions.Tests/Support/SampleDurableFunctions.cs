using System.Text.Json;
using Itsm.Functions.Hosting;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Itsm.Functions.Tests.Support;

/// <summary>
/// A sample approval flow declared like the app's functions: call A, then an Approval event races the deadline an
/// activity computed from the app's clock (24 hours on), plus the HTTP functions that start, answer and read it.
/// </summary>
public sealed class SampleDurableFunctions(TimeProvider time)
{
    [Function("ApprovalFlow")]
    public static Task<ApprovalOutcome> ApprovalFlow([OrchestrationTrigger] TaskOrchestrationContext context, string input) =>
        new ApprovalFlowOrchestrator().RunAsync(context, input);

    [Function("A")]
    public static string A([ActivityTrigger] string input) => "A-done";

    [Function("Deadline")]
    public DateTimeOffset Deadline([ActivityTrigger] int hours) => time.GetUtcNow().AddHours(hours);

    [Function("Fails")]
    public static string Fails([ActivityTrigger] string input) => throw new InvalidOperationException("the CMDB is unreachable");

    [Function("StartApproval")]
    public static async Task<IResult> StartApproval([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "sample-approvals/{id}")] HttpRequest req, string id, [DurableClient] DurableTaskClient durable)
    {
        var input = await JsonSerializer.DeserializeAsync<string>(req.Body);
        var created = await durable.StartOnceAsync("ApprovalFlow", id, input!, CancellationToken.None);
        return Results.Json(new { instanceId = id, created }, statusCode: created ? 202 : 200);
    }

    [Function("DecideApproval")]
    public static async Task<IResult> DecideApproval([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "sample-approvals/{id}/decision")] HttpRequest req, string id, [DurableClient] DurableTaskClient durable)
    {
        var approved = bool.Parse(await new StreamReader(req.Body).ReadToEndAsync());
        return await durable.GetInstanceAsync(id) switch
        {
            null => Results.Problem(statusCode: 404, title: "No such approval."),
            { IsCompleted: true } => Results.Problem(statusCode: 410, title: "The approval has already finished."),
            _ => await durable.TryRaiseEventAsync(id, "Approval", approved, CancellationToken.None) ? Results.Json(new { accepted = true }, statusCode: 202) : Results.Problem(statusCode: 410),
        };
    }

    [Function("GetApproval")]
    public static async Task<IResult> GetApproval([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "sample-approvals/{id}")] HttpRequest req, string id, [DurableClient] DurableTaskClient durable) =>
        await durable.GetInstanceAsync(id, getInputsAndOutputs: true) is { } instance
            ? Results.Json(new { runtimeStatus = instance.RuntimeStatus.ToString(), input = instance.SerializedInput, output = instance.ReadOutputAs<ApprovalOutcome>() })
            : Results.Problem(statusCode: 404, title: "No such approval.");
}

public sealed class ApprovalFlowOrchestrator : TaskOrchestrator<string, ApprovalOutcome>
{
    public override async Task<ApprovalOutcome> RunAsync(TaskOrchestrationContext context, string input)
    {
        var a = await context.CallActivityAsync<string>("A", input);
        var deadline = await context.CallActivityAsync<DateTimeOffset>("Deadline", 24);
        var (received, approved) = await context.WaitForEventUntilAsync<bool>("Approval", deadline);
        return received ? new ApprovalOutcome(a, approved, TimedOut: null) : new ApprovalOutcome(a, false, TimedOut: true);
    }
}

public sealed record ApprovalOutcome(string A, bool Approved, bool? TimedOut);
