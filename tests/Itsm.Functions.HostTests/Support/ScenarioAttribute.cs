using Xunit.Abstractions;
using Xunit.Sdk;

namespace Itsm.Functions.HostTests.Support;

/// <summary>
/// A scenario of the suite: a fact that reports itself skipped, with the reason, when its class's target
/// (<see cref="AppTarget"/> fixture) cannot run on this machine, instead of passing or failing. The reason is known
/// only once the fixture tried (it builds the Functions host), so it is decided when the test runs, not at discovery.
/// </summary>
[XunitTestCaseDiscoverer("Itsm.Functions.HostTests.Support.ScenarioDiscoverer", "Itsm.Functions.HostTests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class ScenarioAttribute : FactAttribute;

public sealed class ScenarioDiscoverer(IMessageSink diagnosticMessageSink) : FactDiscoverer(diagnosticMessageSink)
{
    protected override IXunitTestCase CreateTestCase(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute) =>
        new ScenarioTestCase(DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod);
}

public sealed class ScenarioTestCase : XunitTestCase
{
    [Obsolete("Called by the de-serializer only.")]
    public ScenarioTestCase()
    {
    }

    public ScenarioTestCase(IMessageSink diagnosticMessageSink, TestMethodDisplay display, TestMethodDisplayOptions displayOptions, ITestMethod testMethod)
        : base(diagnosticMessageSink, display, displayOptions, testMethod)
    {
    }

    public override Task<RunSummary> RunAsync(IMessageSink diagnosticMessageSink, IMessageBus messageBus, object[] constructorArguments, ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource)
    {
        var skip = constructorArguments.OfType<AppTarget>().Select(t => t.SkipReason).FirstOrDefault(r => r is not null);
        return skip is null
            ? base.RunAsync(diagnosticMessageSink, messageBus, constructorArguments, aggregator, cancellationTokenSource)
            : new XunitTestCaseRunner(this, DisplayName, skip, constructorArguments, TestMethodArguments, messageBus, aggregator, cancellationTokenSource).RunAsync();
    }
}
