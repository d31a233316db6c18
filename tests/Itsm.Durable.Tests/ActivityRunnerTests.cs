namespace Itsm.Durable.Tests;

public sealed class ActivityRunnerTests
{
    private static readonly IServiceProvider NoServices = new ServiceMap();

    [Fact]
    public async Task Activity_gets_its_single_json_value_input_and_returns_json_text()
    {
        var registry = new DurableFunctionRegistry().AddActivity<AssignActivity>("Assign");

        var result = await ActivityRunner.RunAsync("assign", "{\"number\":\"INC-1\",\"priority\":1}", registry, NoServices, "abc123", CancellationToken.None);

        Assert.True(result.IsSuccess);
        Assert.Equal("{\"ticket\":\"INC-1\",\"team\":\"major-incident\",\"instance\":\"abc123\"}", result.ResultJson);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("null")]
    public async Task Missing_input_reaches_the_activity_as_default(string? rawInput)
    {
        var registry = new DurableFunctionRegistry().AddActivity<int?, string>("Echo", (_, n) => Task.FromResult(n is null ? "none" : "some"));

        var result = await ActivityRunner.RunAsync("Echo", rawInput, registry, NoServices, "abc123", CancellationToken.None);

        Assert.Equal("\"none\"", result.ResultJson);
    }

    [Fact]
    public async Task Activity_without_a_result_returns_no_json()
    {
        var registry = new DurableFunctionRegistry().AddActivity<string, object?>("Fire", (_, _) => Task.FromResult<object?>(null));

        var result = await ActivityRunner.RunAsync("Fire", "\"x\"", registry, NoServices, "abc123", CancellationToken.None);

        Assert.True(result.IsSuccess);
        Assert.Null(result.ResultJson);
    }

    [Fact]
    public async Task Activity_exception_becomes_failure_details_with_the_inner_chain()
    {
        var registry = new DurableFunctionRegistry().AddActivity<string, string>("Close", (_, ticket) =>
            throw new InvalidOperationException($"{ticket} is already closed", new KeyNotFoundException("no open state")));

        var result = await ActivityRunner.RunAsync("Close", "\"INC-3\"", registry, NoServices, "abc123", CancellationToken.None);

        Assert.False(result.IsSuccess);
        Assert.Equal("System.InvalidOperationException", result.Failure!.ErrorType);
        Assert.Equal("INC-3 is already closed", result.Failure.ErrorMessage);
        Assert.Equal("System.Collections.Generic.KeyNotFoundException", result.Failure.InnerFailure!.ErrorType);
    }

    [Fact]
    public async Task Unknown_activity_is_a_non_retriable_failure()
    {
        var result = await ActivityRunner.RunAsync("Nope", null, new DurableFunctionRegistry(), NoServices, "abc123", CancellationToken.None);

        Assert.False(result.IsSuccess);
        Assert.True(result.Failure!.IsNonRetriable);
        Assert.Contains("'Nope'", result.Failure.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Input_of_the_wrong_shape_is_a_failure_not_a_crash()
    {
        var registry = new DurableFunctionRegistry().AddActivity<AssignActivity>("Assign");

        var result = await ActivityRunner.RunAsync("Assign", "[1,2]", registry, NoServices, "abc123", CancellationToken.None);

        Assert.Equal("System.Text.Json.JsonException", result.Failure!.ErrorType);
    }

    [Fact]
    public async Task Cancellation_by_the_host_propagates()
    {
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();
        var registry = new DurableFunctionRegistry().AddActivity<string, string>("Slow", async (context, _) =>
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            return await Task.FromResult("never");
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            ActivityRunner.RunAsync("Slow", "\"x\"", registry, NoServices, "abc123", cancellation.Token));
    }

    [Fact]
    public async Task Failure_envelope_round_trips_the_details()
    {
        var registry = new DurableFunctionRegistry().AddActivity<string, string>("Close", (_, _) => throw new TimeoutException("directory slow"));
        var result = await ActivityRunner.RunAsync("Close", "\"INC-3\"", registry, NoServices, "abc123", CancellationToken.None);

        Assert.True(ActivityResult.TryReadFailureEnvelope(result.ToFailureEnvelopeJson(), out var failure));
        Assert.Equal(result.Failure! with { StackTrace = failure!.StackTrace }, failure);
        Assert.False(ActivityResult.TryReadFailureEnvelope("{\"note\":\"$itsmActivityFailure is just text here\"}", out _));
    }

    [Fact]
    public async Task Activity_classes_get_constructor_dependencies_from_the_services()
    {
        var services = new ServiceMap { [typeof(TeamDirectory)] = new TeamDirectory("service-desk") };
        var registry = new DurableFunctionRegistry().AddActivity<DirectoryActivity>("Lookup");

        var result = await ActivityRunner.RunAsync("Lookup", "\"INC-4\"", registry, services, "abc123", CancellationToken.None);

        Assert.Equal("\"INC-4:service-desk\"", result.ResultJson);
    }

    [Fact]
    public void Names_are_unique_across_orchestrators_and_activities_ignoring_case()
    {
        var registry = new DurableFunctionRegistry().AddActivity<AssignActivity>("Assign");

        Assert.Throws<ArgumentException>(() => registry.AddOrchestrator<object?, int>("ASSIGN", (_, _) => Task.FromResult(0)));
        Assert.True(registry.ContainsActivity("assign"));
        Assert.False(registry.ContainsOrchestrator("assign"));
        Assert.Equal(["Assign"], registry.ActivityNames);
    }

    private sealed record Ticket(string Number, int Priority);

    private sealed class AssignActivity : TaskActivity<Ticket, object>
    {
        public override Task<object> RunAsync(TaskActivityContext context, Ticket input) =>
            Task.FromResult<object>(new { ticket = input.Number, team = input.Priority == 1 ? "major-incident" : "service-desk", instance = context.InstanceId });
    }

    private sealed record TeamDirectory(string DefaultTeam);

    private sealed class DirectoryActivity(TeamDirectory directory) : TaskActivity<string, string>
    {
        public override Task<string> RunAsync(TaskActivityContext context, string input) => Task.FromResult($"{input}:{directory.DefaultTeam}");
    }

    private sealed class ServiceMap : Dictionary<Type, object>, IServiceProvider
    {
        public object? GetService(Type serviceType) => TryGetValue(serviceType, out var service) ? service : null;
    }
}
