using Itsm.DurableTask.Sqlite.Tests.Support;
using DurableTask.Core;
using Microsoft.DurableTask.Testing.Sidecar;
using Microsoft.Extensions.Logging.Abstractions;

namespace Itsm.DurableTask.Sqlite.Tests;

/// <summary>The conformance scenarios on Microsoft's in-memory provider: the reference behaviour.</summary>
public sealed class InMemoryProviderConformanceTests : OrchestrationServiceConformance
{
    protected override IOrchestrationService CreateService() => new InMemoryOrchestrationService(NullLoggerFactory.Instance);
}

/// <summary>The conformance scenarios on the SQLite provider, a fresh database per test.</summary>
public sealed class SqliteProviderConformanceTests : OrchestrationServiceConformance
{
    private readonly TempDirectory directory = new();
    private SqliteOrchestrationService? service;

    protected override IOrchestrationService CreateService() =>
        service = new SqliteOrchestrationService(new SqliteOrchestrationServiceSettings(directory.File("durable.db")));

    protected override async ValueTask DisposeServiceAsync()
    {
        if (service is not null)
        {
            await service.DisposeAsync();
        }

        directory.Dispose();
    }
}
