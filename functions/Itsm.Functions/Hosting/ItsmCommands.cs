namespace Itsm.Functions.Hosting;

/// <summary>Commands of the executable besides serving: <c>functions emit --output DIR</c> writes every function.json; <c>token mint</c>; <c>cmdb import|export</c>.</summary>
public static class ItsmCommands
{
    public static bool TryRun(string[] args, out int exitCode)
    {
        exitCode = 0;
        if (Security.TokenCommand.TryRun(args, out exitCode)) return true;
        if (Cmdb.CmdbCommand.TryRun(args, out exitCode)) return true;
        if (args.Length >= 2 && args[0] == "functions" && args[1] == "emit")
        {
            var output = Option(args, "--output");
            if (output is null)
            {
                Console.Error.WriteLine("usage: Itsm.Functions functions emit --output <directory>");
                exitCode = 2;
                return true;
            }

            var written = FunctionJson.WriteAll(ItsmFunctions.CreateCatalog(), output);
            Console.WriteLine($"Wrote {written.Count} function.json files to {Path.GetFullPath(output)}.");
            return true;
        }

        return false;
    }

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
