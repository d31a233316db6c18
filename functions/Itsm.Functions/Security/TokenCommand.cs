using System.Globalization;
using Itsm.Functions.Hosting;

namespace Itsm.Functions.Security;

/// <summary>
/// <c>Itsm.Functions token mint --user ID [--name NAME] [--email ADDRESS] [--tenant TID] [--roles A,B] [--groups G1,G2] [--lifetime 8h] [--db PATH]</c>:
/// prints a dev token (only the token, on standard output) signed with the key the standalone app trusts.
/// </summary>
public static class TokenCommand
{
    public const string Usage =
        "usage: Itsm.Functions token mint --user <id> [--name \"Ana Silva\"] [--email ana@contoso.com] [--tenant <tid, default local>] " +
        "[--roles Itsm.Agent,Itsm.Admin] [--groups <group ids>] [--lifetime 8h] [--db <database path>]";

    private static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(30);

    private static readonly string[] ValueOptions = ["--user", "--name", "--email", "--tenant", "--roles", "--groups", "--lifetime", "--db"];

    public static bool TryRun(string[] args, out int exitCode) => TryRun(args, ItsmCommands.Configuration(), Console.Out, Console.Error, TimeProvider.System, out exitCode);

    /// <param name="configuration">Settings as the app reads them (environment variables <c>Itsm__...</c>, appsettings.json).</param>
    public static bool TryRun(string[] args, IConfiguration configuration, TextWriter output, TextWriter error, TimeProvider clock, out int exitCode)
    {
        exitCode = 0;
        if (args.Length == 0 || args[0] != "token")
        {
            return false;
        }

        if (args.Length < 2 || args[1] != "mint")
        {
            error.WriteLine(Usage);
            exitCode = 2;
            return true;
        }

        var problems = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 2; i < args.Length; i++)
        {
            if (!ValueOptions.Contains(args[i]))
            {
                problems.Add($"Unknown argument '{args[i]}'.");
            }
            else if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                problems.Add($"{args[i]} needs a value.");
            }
            else
            {
                values[args[i]] = args[++i];
            }
        }

        if (!values.TryGetValue("--user", out var user) || string.IsNullOrWhiteSpace(user))
        {
            problems.Add("--user is required.");
        }

        var roles = new List<string>();
        foreach (var role in AuthOptions.SplitList(values.GetValueOrDefault("--roles")))
        {
            var known = AppRoles.All.FirstOrDefault(r => r.Equals(role, StringComparison.OrdinalIgnoreCase));
            if (known is null)
            {
                problems.Add($"Unknown role '{role}'; the roles are {string.Join(", ", AppRoles.All)}.");
            }
            else
            {
                roles.Add(known);
            }
        }

        var lifetime = DevTokens.DefaultLifetime;
        if (values.TryGetValue("--lifetime", out var lifetimeText) && !TryParseLifetime(lifetimeText, out lifetime))
        {
            problems.Add($"--lifetime must be a duration such as 90m, 8h or 7d (at most 30 days), not '{lifetimeText}'.");
        }

        if (values.TryGetValue("--db", out var database))
        {
            configuration = new ConfigurationBuilder()
                .AddConfiguration(configuration)
                .AddInMemoryCollection(new Dictionary<string, string?> { [$"{ItsmOptions.SectionName}:Sqlite:Path"] = database })
                .Build();
        }

        var options = AuthOptions.Bind(configuration, underFunctionsHost: false);
        if (options.Mode == AuthMode.Entra)
        {
            problems.Add("Itsm:Auth:Mode is Entra: this app trusts Entra ID tokens only, so a dev token would be refused. Get a token from Entra ID instead.");
        }

        problems.AddRange(options.Validate());
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                error.WriteLine(problem);
            }

            error.WriteLine(Usage);
            exitCode = 2;
            return true;
        }

        var key = DevSigningKey.LoadOrCreate(options.DevKeyPath!);
        var now = clock.GetUtcNow();
        var token = DevTokens.Mint(
            key,
            user!,
            roles,
            values.GetValueOrDefault("--tenant") ?? DevTokens.DefaultTenant,
            values.GetValueOrDefault("--name"),
            values.GetValueOrDefault("--email"),
            lifetime,
            now,
            AuthOptions.SplitList(values.GetValueOrDefault("--groups")));
        output.WriteLine(token);
        error.WriteLine($"Dev token for '{user}' in tenant '{values.GetValueOrDefault("--tenant") ?? DevTokens.DefaultTenant}' " +
            $"with roles {(roles.Count > 0 ? string.Join(",", roles) : AppRoles.Requester)}, valid until {(now + lifetime):u}, signed with {key.Path}.");
        return true;
    }


    internal static bool TryParseLifetime(string text, out TimeSpan lifetime)
    {
        lifetime = default;
        text = text.Trim();
        if (text.Length >= 2 && double.TryParse(text[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            lifetime = char.ToLowerInvariant(text[^1]) switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount),
                _ => default,
            };
        }
        else if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span))
        {
            lifetime = span;
        }

        return lifetime > TimeSpan.Zero && lifetime <= MaxLifetime;
    }
}
