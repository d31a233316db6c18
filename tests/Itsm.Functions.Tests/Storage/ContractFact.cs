using Xunit.Abstractions;
using Xunit.Sdk;

namespace Itsm.Functions.Tests.Storage;

/// <summary>Features of the document store that some test backends lack (the Cosmos test server in particular).</summary>
public enum ContractFeature
{
    /// <summary>Point reads and writes, ETags: every backend has these.</summary>
    PointOperations,

    /// <summary>Reading a document that does not exist (answered with "not found").</summary>
    ReadsOfMissingDocuments,

    /// <summary>Queries with ORDER BY (every query: results are always sorted, at least by id).</summary>
    OrderedQueries,

    /// <summary>Queries across partitions.</summary>
    CrossPartitionQueries,

    /// <summary>Transactional batches in one partition.</summary>
    TransactionalBatch,
}

/// <summary>Answers, for a concrete contract test class, why a feature cannot be tested against its backend (null: it can).</summary>
public interface IContractLimits
{
    string? SkipReason(ContractFeature feature);
}

/// <summary>Names the <see cref="IContractLimits"/> of a concrete contract test class.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class ContractLimitsAttribute(Type limits) : Attribute
{
    public Type Limits { get; } = limits;
}

/// <summary>
/// A fact of the document-store contract that needs the given features. It runs unless the concrete test class's
/// <see cref="ContractLimitsAttribute"/> says its backend lacks one of them; then it is reported as skipped with the reason.
/// </summary>
[XunitTestCaseDiscoverer("Itsm.Functions.Tests.Storage.ContractFactDiscoverer", "Itsm.Functions.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class ContractFactAttribute(params ContractFeature[] needs) : FactAttribute
{
    public IReadOnlyList<ContractFeature> Needs { get; } = needs;
}

public sealed class ContractFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute) =>
        [new ContractTestCase(diagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod)];
}

/// <summary>A test case whose skip reason comes from the concrete class's limits (recomputed after deserialisation).</summary>
public sealed class ContractTestCase : XunitTestCase
{
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public ContractTestCase()
    {
    }

    public ContractTestCase(IMessageSink sink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod testMethod)
        : base(sink, display, options, testMethod)
    {
    }

    protected override string GetSkipReason(IAttributeInfo factAttribute)
    {
        var attribute = (factAttribute as IReflectionAttributeInfo)?.Attribute as ContractFactAttribute;
        var type = TestMethod.TestClass.Class.ToRuntimeType();
        var limitsType = type?.GetCustomAttributes(typeof(ContractLimitsAttribute), inherit: true).OfType<ContractLimitsAttribute>().FirstOrDefault()?.Limits;
        if (attribute is not null && limitsType is not null && Activator.CreateInstance(limitsType) is IContractLimits limits)
        {
            foreach (var feature in attribute.Needs.Prepend(ContractFeature.PointOperations))
            {
                if (limits.SkipReason(feature) is { } reason)
                {
                    return reason;
                }
            }
        }

        return base.GetSkipReason(factAttribute);
    }
}
