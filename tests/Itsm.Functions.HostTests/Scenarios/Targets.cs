using Itsm.Functions.HostTests.Support;
using Xunit.Abstractions;

namespace Itsm.Functions.HostTests.Scenarios;

// The scenarios, bound to each target. Each class is a test collection with its own target process (and, for the
// Functions host, its own Azurite), so the four run in parallel; the scenarios of one class share their target.

/// <summary>The scenarios against the standalone app.</summary>
public sealed class StandaloneScenarios(StandaloneTarget target, ITestOutputHelper output) : Scenarios(target, output), IClassFixture<StandaloneTarget>;

/// <summary>The same scenarios against the app under the real Azure Functions host with Azurite.</summary>
public sealed class FunctionsHostScenarios(FunctionsHostTarget target, ITestOutputHelper output) : Scenarios(target, output), IClassFixture<FunctionsHostTarget>;

/// <summary>The kill scenario against the standalone app.</summary>
public sealed class StandaloneKillScenario(StandaloneTarget target, ITestOutputHelper output) : KillScenario(target, output), IClassFixture<StandaloneTarget>;

/// <summary>The kill scenario against the app under the real Azure Functions host.</summary>
public sealed class FunctionsHostKillScenario(FunctionsHostTarget target, ITestOutputHelper output) : KillScenario(target, output), IClassFixture<FunctionsHostTarget>;
