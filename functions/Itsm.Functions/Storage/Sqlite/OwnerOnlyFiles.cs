namespace Itsm.Functions.Storage.Sqlite;

/// <summary>
/// Creates folders and files readable by their owner only (on Unix; Windows inherits the folder's ACL). SQLite gives
/// the WAL and shared-memory files the permissions of the database file, so an owner-only database keeps them so too.
/// </summary>
public static class OwnerOnlyFiles
{
    private const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode File = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates the folder (and missing parents) owner-only; an existing folder is left as it is.</summary>
    public static void CreateFolder(string? path)
    {
        if (string.IsNullOrEmpty(path) || Directory.Exists(path))
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        // Each folder created here is owner-only, the missing parents too (CreateDirectory applies the mode to the last one only).
        var missing = new Stack<string>();
        for (var folder = Path.GetFullPath(path); !string.IsNullOrEmpty(folder) && !Directory.Exists(folder); folder = Path.GetDirectoryName(folder))
        {
            missing.Push(folder);
        }

        while (missing.TryPop(out var folder))
        {
            Directory.CreateDirectory(folder, Folder);
        }
    }

    /// <summary>Creates an empty owner-only file when none exists (an empty file is a valid new SQLite database).</summary>
    public static void CreateFile(string path)
    {
        try
        {
            using var created = new FileStream(path, Options(FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite));
        }
        catch (IOException) when (System.IO.File.Exists(path))
        {
            // Already there: its permissions are the owner's choice.
        }
    }

    public static FileStreamOptions Options(FileMode mode, FileAccess access, FileShare share)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = File;
        }

        return options;
    }
}
