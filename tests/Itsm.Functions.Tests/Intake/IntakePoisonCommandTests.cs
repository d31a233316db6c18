using Itsm.Functions.Hosting.Standalone;
using Itsm.Functions.Intake;
using Itsm.Functions.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace Itsm.Functions.Tests.Intake;

/// <summary>The documented way to look at and resubmit poison messages standalone.</summary>
public class IntakePoisonCommandTests
{
    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.True(IntakePoisonCommand.TryRun(args, new ConfigurationBuilder().Build(), output, error, out var exitCode));
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task A_message_poisoned_for_an_unknown_source_is_resubmitted_and_raises_its_ticket_once_the_source_exists()
    {
        var directory = TempDirectory.Create();
        var body = """{"channel":"email","externalId":"<m-9@contoso.com>","sender":"ana@contoso.com","subject":"VPN down","body":"Since 8am","receivedAt":"2026-03-02T07:59:00Z","source":"desk@contoso.com"}""";
        // The command runs on the real clock (it stamps the resubmitted messages), so the apps' fake clock starts at real time.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using (var first = await StandaloneApp.StartAsync(directory: directory, clock: clock))
        {
            await first.Services.GetRequiredService<EmbeddedQueue>().SendAsync(IntakeFunctions.QueueName, new OutgoingQueueMessage(body, "broker-9"));
            await first.DrainIntakeAsync(async () => (await first.Services.GetRequiredService<EmbeddedQueue>().GetDeadLettersAsync(IntakeFunctions.QueueName)).Count == 1);
        }

        var listed = Run("intake", "poison", "list", "--db", Path.Combine(directory, "itsm.db"));
        Assert.Equal(0, listed.ExitCode);
        Assert.Contains("<m-9@contoso.com>", listed.Output, StringComparison.Ordinal);
        Assert.Contains("1 messages in intake-poison", listed.Error, StringComparison.Ordinal);

        var resubmitted = Run("intake", "poison", "resubmit", "--db", Path.Combine(directory, "itsm.db"));
        Assert.Equal(0, resubmitted.ExitCode);
        Assert.Contains("Moved 1 messages", resubmitted.Error, StringComparison.Ordinal);

        clock.Advance(DateTimeOffset.UtcNow - clock.GetUtcNow() + TimeSpan.FromSeconds(1));
        await using var second = await StandaloneApp.StartAsync(directory: directory, clock: clock, settings: new Dictionary<string, string?>
        {
            ["Itsm:Intake:Sources:0:Name"] = "desk@contoso.com",
            ["Itsm:Intake:Sources:0:TenantId"] = "contoso",
        });
        await second.DrainIntakeAsync(async () => (await second.TicketsAsync("contoso")).Count == 1);
        Assert.Empty(await second.Services.GetRequiredService<EmbeddedQueue>().GetDeadLettersAsync(IntakeFunctions.QueueName));
    }

    [Theory]
    [InlineData("intake")]
    [InlineData("intake", "poison")]
    [InlineData("intake", "poison", "purge")]
    [InlineData("intake", "poison", "list", "--db")]
    public void Wrong_usage_prints_the_usage_and_exits_2(params string[] args)
    {
        var (exitCode, _, error) = Run(args);

        Assert.Equal(2, exitCode);
        Assert.Contains(IntakePoisonCommand.Usage, error, StringComparison.Ordinal);
    }
}
