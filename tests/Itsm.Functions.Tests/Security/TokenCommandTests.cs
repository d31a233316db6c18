using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace Itsm.Functions.Tests.Security;

/// <summary><c>Itsm.Functions token mint</c>: the token it prints passes the app's validation.</summary>
public sealed class TokenCommandTests
{
    private readonly string _directory = TempDirectory.Create();
    private readonly FakeTimeProvider _clock = new(StandaloneApp.Epoch);

    private (int ExitCode, string Output, string Error) Run(IDictionary<string, string?>? settings, params string[] args)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.True(TokenCommand.TryRun(args, configuration, output, error, _clock, out var exitCode));
        return (exitCode, output.ToString(), error.ToString());
    }

    private (int ExitCode, string Output, string Error) Run(params string[] args) =>
        Run(new Dictionary<string, string?> { ["Itsm:Sqlite:Path"] = Path.Combine(_directory, "itsm.db") }, args);

    /// <summary>The authenticator the standalone app builds from the same settings.</summary>
    private ICallerAuthenticator AppAuthenticator(IDictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection()
            .AddSingleton<TimeProvider>(_clock)
            .AddItsmSecurity(configuration, underFunctionsHost: false)
            .BuildServiceProvider();
        return services.GetRequiredService<ICallerAuthenticator>();
    }

    [Fact]
    public async Task The_minted_token_is_accepted_by_the_app_using_the_same_database_folder()
    {
        var (exitCode, output, error) = Run("token", "mint", "--user", "ana", "--name", "Ana Silva", "--email", "ana@contoso.com", "--tenant", "contoso", "--roles", "Itsm.Agent,itsm.admin");

        Assert.Equal(0, exitCode);
        Assert.Contains(Path.Combine(_directory, AuthOptions.DevKeyFileName), error, StringComparison.Ordinal);
        var token = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        var result = await AppAuthenticator(new Dictionary<string, string?> { ["Itsm:Sqlite:Path"] = Path.Combine(_directory, "itsm.db") })
            .AuthenticateAsync("Bearer " + token, CancellationToken.None);

        Assert.True(result.Succeeded, result.Failure);
        Assert.Equal(new CallerPrincipal("contoso", "ana", "Ana Silva", "ana@contoso.com", result.Caller!.Roles), result.Caller);
        Assert.Equal([AppRoles.Admin, AppRoles.Agent], result.Caller.Roles.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_db_option_and_an_explicit_key_path_choose_the_key_file()
    {
        var database = Path.Combine(_directory, "elsewhere", "itsm.db");
        var (_, fromDb, _) = Run("token", "mint", "--user", "ana", "--db", database);
        Assert.True(File.Exists(Path.Combine(_directory, "elsewhere", AuthOptions.DevKeyFileName)));

        var keyPath = Path.Combine(_directory, "keys", "my-key.json");
        var (_, fromKeyPath, _) = Run(new Dictionary<string, string?> { ["Itsm:Auth:DevKeyPath"] = keyPath }, "token", "mint", "--user", "ben");
        Assert.True(File.Exists(keyPath));

        var byDb = AppAuthenticator(new Dictionary<string, string?> { ["Itsm:Sqlite:Path"] = database });
        var byKeyPath = AppAuthenticator(new Dictionary<string, string?> { ["Itsm:Auth:DevKeyPath"] = keyPath });
        Assert.True((await byDb.AuthenticateAsync("Bearer " + fromDb.Trim(), CancellationToken.None)).Succeeded);
        Assert.True((await byKeyPath.AuthenticateAsync("Bearer " + fromKeyPath.Trim(), CancellationToken.None)).Succeeded);
        Assert.False((await byDb.AuthenticateAsync("Bearer " + fromKeyPath.Trim(), CancellationToken.None)).Succeeded);
    }

    [Fact]
    public async Task The_lifetime_option_sets_the_expiry()
    {
        var (_, output, error) = Run("token", "mint", "--user", "ana", "--lifetime", "30m");
        var authenticator = AppAuthenticator(new Dictionary<string, string?> { ["Itsm:Sqlite:Path"] = Path.Combine(_directory, "itsm.db") });

        Assert.Contains("valid until 2026-03-02 08:30:00Z", error, StringComparison.Ordinal);
        _clock.Advance(TimeSpan.FromMinutes(33));
        var result = await authenticator.AuthenticateAsync("Bearer " + output.Trim(), CancellationToken.None);
        Assert.Equal("The token expired at 2026-03-02 08:30:00Z.", result.Failure);
    }

    [Fact]
    public void Unknown_roles_are_refused()
    {
        var (exitCode, output, error) = Run("token", "mint", "--user", "ana", "--roles", "Itsm.Agent,Itsm.Superuser");

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.Contains("Unknown role 'Itsm.Superuser'", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_directory, AuthOptions.DevKeyFileName)));
    }

    [Fact]
    public void Entra_mode_refuses_to_mint()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Itsm:Sqlite:Path"] = Path.Combine(_directory, "itsm.db"),
            ["Itsm:Auth:Mode"] = "Entra",
            ["Itsm:Auth:TenantId"] = "6f1c2a8e-4b7d-4c1e-9a3f-2d5e8b0c7a91",
            ["Itsm:Auth:Audience"] = "api://itsm",
        };

        var (exitCode, output, error) = Run(settings, "token", "mint", "--user", "ana");

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.Contains("Itsm:Auth:Mode is Entra", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "token" }, "usage: Itsm.Functions token mint")]
    [InlineData(new[] { "token", "mint" }, "--user is required.")]
    [InlineData(new[] { "token", "mint", "--user" }, "--user needs a value.")]
    [InlineData(new[] { "token", "mint", "--user", "ana", "--admin" }, "Unknown argument '--admin'.")]
    [InlineData(new[] { "token", "mint", "--user", "ana", "--lifetime", "forever" }, "--lifetime must be a duration")]
    [InlineData(new[] { "token", "mint", "--user", "ana", "--lifetime", "90d" }, "at most 30 days")]
    public void Bad_arguments_print_the_problem_and_the_usage(string[] args, string problem)
    {
        var (exitCode, output, error) = Run(args);

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.Contains(problem, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Other_commands_are_left_alone()
    {
        using var output = new StringWriter();
        Assert.False(TokenCommand.TryRun(["functions", "emit"], new ConfigurationBuilder().Build(), output, output, _clock, out _));
        Assert.False(TokenCommand.TryRun([], new ConfigurationBuilder().Build(), output, output, _clock, out _));
    }

    [Theory]
    [InlineData("8h", 8 * 60)]
    [InlineData("90m", 90)]
    [InlineData("1.5h", 90)]
    [InlineData("2d", 2 * 24 * 60)]
    [InlineData("01:30:00", 90)]
    public void Lifetimes_are_read_with_units(string text, int minutes)
    {
        Assert.True(TokenCommand.TryParseLifetime(text, out var lifetime));
        Assert.Equal(TimeSpan.FromMinutes(minutes), lifetime);
    }
}
