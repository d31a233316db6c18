namespace Itsm.Functions.HostTests.Support;

/// <summary>Paths of the clone the tests run from, and of what sits beside it.</summary>
public static class Repository
{
    /// <summary>The folder holding <c>ItsmFunctions.sln</c>, found upwards from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The app's build output of the configuration the tests were built in (<c>functions/Itsm.Functions/bin/Release/net10.0</c>).</summary>
    public static string AppOutput
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
            return Path.Combine(Root, "functions", "Itsm.Functions", "bin", configuration, "net10.0");
        }
    }

    /// <summary><c>../shared/functions-host/start.sh</c>: the Functions host built from source, beside the clone.</summary>
    public static string SharedHostStartScript => Path.GetFullPath(Path.Combine(Root, "..", "shared", "functions-host", "start.sh"));

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ItsmFunctions.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds ItsmFunctions.sln.");
    }
}
