namespace Itsm.Functions.Tests.Support;

/// <summary>Files of the repository the tests run from (the clone, not the build output).</summary>
public static class Repository
{
    /// <summary>The folder holding <c>ItsmFunctions.sln</c> and <c>azure.yaml</c>, found upwards from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string ReadText(params string[] parts) => File.ReadAllText(PathOf(parts));

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ItsmFunctions.sln")) && File.Exists(Path.Combine(directory.FullName, "azure.yaml")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds ItsmFunctions.sln and azure.yaml.");
    }
}
