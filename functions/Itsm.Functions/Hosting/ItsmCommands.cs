namespace Itsm.Functions.Hosting;

/// <summary>Commands of the executable besides serving: <c>token mint</c>, <c>cmdb import|export</c>, <c>intake poison list|resubmit</c>, <c>demo-data</c>.</summary>
public static class ItsmCommands
{
    private static readonly string[] Names = ["token", "cmdb", "intake", "demo-data"];

    public static bool TryRun(string[] args, out int exitCode)
    {
        exitCode = 0;
        // Serving (no command) is the common case: decide it before any command reads the configuration.
        if (args.Length == 0 || !Names.Contains(args[0], StringComparer.Ordinal))
        {
            return false;
        }

        if (Security.TokenCommand.TryRun(args, out exitCode)) return true;
        if (Cmdb.CmdbCommand.TryRun(args, out exitCode)) return true;
        if (Intake.IntakePoisonCommand.TryRun(args, out exitCode)) return true;
        if (Demo.DemoDataCommand.TryRun(args, out exitCode)) return true;
        return false;
    }

    /// <summary>The settings the app would read, without building it: appsettings.json next to the app, then environment variables.</summary>
    public static IConfiguration Configuration() => new ConfigurationBuilder()
        .SetBasePath(AppContext.BaseDirectory)
        .AddJsonFile("appsettings.json", optional: true)
        .AddEnvironmentVariables()
        .Build();
}
