using Itsm.Durable.Tests.Support;

namespace Itsm.Durable.Tests;

public sealed class OrchestratorClassTests
{
    [Fact]
    public void Orchestrator_class_is_built_with_its_dependencies_and_gets_typed_input()
    {
        var services = new SinglePolicy(new EscalationPolicy(TimeSpan.FromMinutes(30)));
        var registry = new DurableFunctionRegistry().AddOrchestrator<EscalationOrchestrator>("Escalation");
        var driver = new OrchestrationDriver(registry, services: services);

        Assert.Equal(["#0 timer 2025-01-01T00:30:00Z"], driver.Start("escalation", new Incident("INC-5", "P1")).Describe());
        Assert.Equal(
            ["#1 activity PageOnCall {\"number\":\"INC-5\",\"priority\":\"P1\"}"],
            driver.Episode(History.T0.AddMinutes(30), History.TimerFired(0, History.T0.AddMinutes(30))).Describe());
    }

    [Fact]
    public void Orchestrator_registered_with_a_factory_is_created_by_it()
    {
        var registry = new DurableFunctionRegistry()
            .AddOrchestrator("Escalation", _ => new EscalationOrchestrator(new EscalationPolicy(TimeSpan.FromHours(2))));

        var response = new OrchestrationDriver(registry).Start("Escalation", new Incident("INC-6", "P2"));

        Assert.Equal(["#0 timer 2025-01-01T02:00:00Z"], response.Describe());
    }

    private sealed record Incident(string Number, string Priority);

    private sealed record EscalationPolicy(TimeSpan WaitBeforePaging);

    private sealed class EscalationOrchestrator(EscalationPolicy policy) : TaskOrchestrator<Incident, string>
    {
        public override async Task<string> RunAsync(TaskOrchestrationContext context, Incident input)
        {
            await context.CreateTimer(policy.WaitBeforePaging, CancellationToken.None);
            await context.CallActivityAsync("PageOnCall", input);
            return "paged";
        }
    }

    private sealed class SinglePolicy(EscalationPolicy policy) : IServiceProvider
    {
        public object? GetService(Type serviceType) => serviceType == typeof(EscalationPolicy) ? policy : null;
    }
}
