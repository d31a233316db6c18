using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Itsm.Durable;
using Itsm.Durable.Protocol;

namespace Itsm.Benchmarks;

/// <summary>
/// Replay cost of one orchestrator episode with a long history: an orchestrator that called
/// <see cref="Activities"/> activities in sequence, each in its own episode, receiving the last result.
/// The history is laid out as DTFx commits it: per episode OrchestratorStarted, the new event
/// (ExecutionStarted or TaskCompleted), TaskScheduled, OrchestratorCompleted, so 4 x Activities + 2 events
/// (250 activities: 1,002 events; 330: 1,322). The episode replays every call and completes the orchestration.
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class ReplayBenchmarks
{
    private DurableFunctionRegistry registry = null!;
    private OrchestratorRequest request = null!;
    private string base64 = null!;

    [Params(250, 330)]
    public int Activities { get; set; }

    public int Events => request.PastEvents.Count + request.NewEvents.Count;

    [GlobalSetup]
    public void Setup()
    {
        registry = new DurableFunctionRegistry()
            .AddOrchestrator<int, int>("Chain", async (context, count) =>
            {
                var sum = 0;
                for (var i = 0; i < count; i++)
                {
                    sum += await context.CallActivityAsync<int>("Step", new StepInput(i, "ticket-0001"));
                }

                return sum;
            })
            .AddActivity<StepInput, int>("Step", (_, input) => Task.FromResult(input.Index));
        request = BuildHistory(Activities);
        base64 = Convert.ToBase64String(request.ToByteArray());

        // The episode must replay everything and complete; anything else would measure a failure path.
        var response = OrchestrationRunner.Run(request, registry);
        if (response.Actions is not [{ CompleteOrchestration.OrchestrationStatus: OrchestrationStatus.Completed }])
        {
            throw new InvalidOperationException($"The replay did not complete the orchestration: {response}");
        }

        Console.WriteLine($"// history: {Activities} activities, {Events} events, request {base64.Length:N0} base64 characters");
    }

    /// <summary>The decoded request in, the response object out (the executor alone).</summary>
    [Benchmark]
    public OrchestratorResponse Run() => OrchestrationRunner.Run(request, registry);

    /// <summary>What the app calls per episode: base64 protobuf in, base64 protobuf out.</summary>
    [Benchmark(Baseline = true)]
    public string RunBase64() => OrchestrationRunner.RunBase64(base64, registry);

    public static OrchestratorRequest BuildHistory(int activities)
    {
        var t0 = new DateTime(2026, 11, 22, 8, 0, 0, DateTimeKind.Utc);
        var request = new OrchestratorRequest { InstanceId = "bench-replay" };
        var past = request.PastEvents;
        for (var episode = 0; episode < activities; episode++)
        {
            var at = t0.AddSeconds(episode);
            past.Add(new HistoryEvent { EventId = -1, Timestamp = Ts(at), OrchestratorStarted = new OrchestratorStartedEvent() });
            past.Add(episode == 0
                ? new HistoryEvent
                {
                    EventId = -1,
                    Timestamp = Ts(at),
                    ExecutionStarted = new ExecutionStartedEvent
                    {
                        Name = "Chain",
                        Version = string.Empty,
                        Input = activities.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        OrchestrationInstance = new OrchestrationInstance { InstanceId = request.InstanceId, ExecutionId = "e1" },
                    },
                }
                : Completed(episode - 1, at));
            past.Add(new HistoryEvent
            {
                EventId = episode,
                Timestamp = Ts(at),
                TaskScheduled = new TaskScheduledEvent { Name = "Step", Input = $$"""{"index":{{episode}},"ticketId":"ticket-0001"}""" },
            });
            past.Add(new HistoryEvent { EventId = -1, Timestamp = Ts(at), OrchestratorCompleted = new OrchestratorCompletedEvent() });
        }

        var last = t0.AddSeconds(activities);
        request.NewEvents.Add(new HistoryEvent { EventId = -1, Timestamp = Ts(last), OrchestratorStarted = new OrchestratorStartedEvent() });
        request.NewEvents.Add(Completed(activities - 1, last));
        return request;
    }

    private static HistoryEvent Completed(int taskId, DateTime at) => new()
    {
        EventId = -1,
        Timestamp = Ts(at),
        TaskCompleted = new TaskCompletedEvent { TaskScheduledId = taskId, Result = taskId.ToString(System.Globalization.CultureInfo.InvariantCulture) },
    };

    private static Timestamp Ts(DateTime at) => Timestamp.FromDateTime(at);
}

public sealed record StepInput(int Index, string TicketId);
