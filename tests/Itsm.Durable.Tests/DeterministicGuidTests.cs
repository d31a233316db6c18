using Itsm.Durable.Replay;
using Itsm.Durable.Tests.Support;

namespace Itsm.Durable.Tests;

public sealed class DeterministicGuidTests
{
    [Fact]
    public void Name_based_uuid_matches_the_published_version_5_example()
    {
        // uuid5(NAMESPACE_DNS, "python.org") from the Python standard library documentation.
        var dns = new Guid("6ba7b810-9dad-11d1-80b4-00c04fd430c8");

        Assert.Equal(new Guid("886313e1-3b8a-5372-9b90-0c9aee199e5d"), DeterministicGuid.Create(dns, "python.org"));
    }

    [Fact]
    public void Different_instances_get_different_guids_at_the_same_moment()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, Guid>("Ids", (context, _) => Task.FromResult(context.NewGuid()));

        var first = new OrchestrationDriver(registry, "INC-1").Start("Ids").Completion().Result;
        var second = new OrchestrationDriver(registry, "INC-2").Start("Ids").Completion().Result;
        var again = new OrchestrationDriver(registry, "INC-1").Start("Ids").Completion().Result;

        Assert.NotEqual(first, second);
        Assert.Equal(first, again);
    }
}
