using System.Diagnostics;
using System.Globalization;
using System.Text;
using Itsm.Functions.Hosting;
using Itsm.Functions.Storage;
using Itsm.Functions.Storage.Sqlite;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Cmdb;

/// <summary>
/// <c>Itsm.Functions cmdb import --tenant TID --kind cis|relationships --file PATH [--dry-run] [--actor ID] [--report PATH] [--db PATH]</c>
/// and <c>cmdb export --tenant TID --kind cis|relationships [--output PATH] [--db PATH]</c>: the CSV import and export
/// against the store the app is configured with, with a progress bar on standard error. Exit code 0 when every row
/// was applied, 1 when some rows were rejected, 2 when nothing could be imported (usage, unreadable file).
/// </summary>
public static class CmdbCommand
{
    public const string Usage =
        "usage: Itsm.Functions cmdb import --tenant <tid> --kind cis|relationships --file <path.csv> [--dry-run] [--actor <id>] [--report <errors.csv>] [--parallel <1-16, default 1>] [--db <database path>]\n" +
        "       Itsm.Functions cmdb export --tenant <tid> --kind cis|relationships [--output <path.csv>] [--db <database path>]";

    private static readonly string[] ValueOptions = ["--tenant", "--kind", "--file", "--actor", "--report", "--db", "--output", "--parallel"];

    public static bool TryRun(string[] args, out int exitCode)
    {
        return TryRun(args, ItsmCommands.Configuration(), Console.Out, Console.Error, out exitCode);
    }

    public static bool TryRun(string[] args, IConfiguration configuration, TextWriter output, TextWriter error, out int exitCode)
    {
        exitCode = 0;
        if (args.Length == 0 || args[0] != "cmdb")
        {
            return false;
        }

        if (args.Length < 2 || args[1] is not ("import" or "export"))
        {
            error.WriteLine(Usage);
            exitCode = 2;
            return true;
        }

        var problems = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var dryRun = false;
        for (var i = 2; i < args.Length; i++)
        {
            if (args[i] == "--dry-run")
            {
                dryRun = true;
            }
            else if (!ValueOptions.Contains(args[i]))
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

        var import = args[1] == "import";
        if (!values.TryGetValue("--tenant", out var tenant) || string.IsNullOrWhiteSpace(tenant) || tenant.Contains(DocumentKey.LevelSeparator, StringComparison.Ordinal))
        {
            problems.Add("--tenant is required (a tenant id without '|').");
        }

        var kind = values.GetValueOrDefault("--kind") switch
        {
            "cis" => ImportKind.Cis,
            "relationships" => ImportKind.Relationships,
            _ => (ImportKind?)null,
        };
        if (kind is null)
        {
            problems.Add("--kind must be cis or relationships.");
        }

        if (import && (!values.TryGetValue("--file", out var file) || !File.Exists(file)))
        {
            problems.Add("--file must name an existing CSV file.");
        }

        var parallel = 1;
        if (values.TryGetValue("--parallel", out var parallelText) && (!int.TryParse(parallelText, NumberStyles.None, CultureInfo.InvariantCulture, out parallel) || parallel is < 1 or > 16))
        {
            problems.Add("--parallel must be a whole number from 1 to 16.");
        }

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

        if (values.TryGetValue("--db", out var database))
        {
            configuration = new ConfigurationBuilder()
                .AddConfiguration(configuration)
                .AddInMemoryCollection(new Dictionary<string, string?> { [$"{ItsmOptions.SectionName}:Sqlite:Path"] = database })
                .Build();
        }

        using var services = BuildServices(configuration);
        exitCode = import
            ? RunImportAsync(services, tenant!, values.GetValueOrDefault("--actor") ?? "cmdb-import", kind!.Value, values["--file"], dryRun, parallel, values.GetValueOrDefault("--report"), error).GetAwaiter().GetResult()
            : RunExportAsync(services, tenant!, kind!.Value, values.GetValueOrDefault("--output"), output, error).GetAwaiter().GetResult();
        return true;
    }

    private static ServiceProvider BuildServices(IConfiguration configuration)
    {
        var options = configuration.GetSection(ItsmOptions.SectionName).Get<ItsmOptions>() ?? new ItsmOptions();
        var services = new ServiceCollection();
        services.AddItsmStorage(configuration, underFunctionsHost: false);
        services.AddSingleton(_ => new SqliteDatabase(options.Sqlite.Path));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<TicketStore>();

        // The import places its CIs' events in the feed itself, as the API does, rather than leaving them to the app's sweep.
        services.AddLogging().AddSingleton<Events.EventLog>().AddSingleton<Events.EventSequencer>();
        services.AddSingleton<CmdbStore>().AddSingleton<CmdbService>().AddSingleton<CmdbImporter>();
        return services.BuildServiceProvider();
    }

    private static async Task<int> RunImportAsync(IServiceProvider services, string tenant, string actor, ImportKind kind, string file, bool dryRun, int parallel, string? reportPath, TextWriter error)
    {
        await using var stream = File.OpenRead(file);
        using var text = CmdbCsvReader.Utf8(stream);
        using var csv = CmdbCsvReader.Open(text, kind, out var problems);
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                error.WriteLine(problem.Column.Length > 0 ? $"{file}: column '{problem.Column}' {problem.Reason}" : $"{file}: {problem.Reason}");
            }

            error.WriteLine("Nothing was imported.");
            return 2;
        }

        var bar = new ProgressBar(error, () => stream.Length == 0 ? 1 : (double)stream.Position / stream.Length);
        var report = await services.GetRequiredService<CmdbImporter>().ImportAsync(tenant, actor, kind, csv.Rows(), dryRun, bar, CancellationToken.None, parallel);
        bar.Finish(report);
        foreach (var rejected in report.Errors.Take(20))
        {
            error.WriteLine($"row {rejected.Row}{(rejected.Column.Length > 0 ? $", column {rejected.Column}" : "")}: {rejected.Reason}");
        }

        if (report.Errors.Count > 20)
        {
            error.WriteLine($"... {report.Rejected - 20} more rejected rows{(reportPath is null ? " (use --report to write them all)" : "")}.");
        }

        if (reportPath is not null)
        {
            var lines = new StringBuilder("row,column,reason\n");
            foreach (var rejected in report.Errors)
            {
                lines.Append(CultureInfo.InvariantCulture, $"{rejected.Row},{rejected.Column},\"{rejected.Reason.Replace("\"", "\"\"", StringComparison.Ordinal)}\"\n");
            }

            await File.WriteAllTextAsync(reportPath, lines.ToString());
        }

        return report.Rejected > 0 ? 1 : 0;
    }

    private static async Task<int> RunExportAsync(IServiceProvider services, string tenant, ImportKind kind, string? outputPath, TextWriter output, TextWriter error)
    {
        var importer = services.GetRequiredService<CmdbImporter>();
        var writer = outputPath is null ? output : new StreamWriter(outputPath, false, new UTF8Encoding(false));
        try
        {
            if (kind == ImportKind.Cis)
            {
                error.WriteLine($"Exported {await importer.ExportCisAsync(tenant, writer, CancellationToken.None)} CIs.");
            }
            else
            {
                var (written, skipped) = await importer.ExportRelationshipsAsync(tenant, writer, CancellationToken.None);
                error.WriteLine($"Exported {written} relationships{(skipped > 0 ? $"; skipped {skipped} whose CIs have no external key" : "")}.");
            }
        }
        finally
        {
            await writer.FlushAsync();
            if (outputPath is not null)
            {
                await writer.DisposeAsync();
            }
        }

        return 0;
    }

    /// <summary>A one-line progress bar redrawn in place (carriage return), with rows, counts and rate.</summary>
    private sealed class ProgressBar(TextWriter error, Func<double> fraction) : IProgress<ImportProgress>
    {
        private const int Width = 30;
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public void Report(ImportProgress value) => Draw(value.Report, Math.Clamp(fraction(), 0, 1));

        public void Finish(ImportReport report)
        {
            Draw(report, 1);
            error.WriteLine();
        }

        private void Draw(ImportReport report, double done)
        {
            var filled = (int)Math.Round(done * Width);
            var rate = report.Rows / Math.Max(_clock.Elapsed.TotalSeconds, 0.001);
            error.Write(string.Create(CultureInfo.InvariantCulture,
                $"\r[{new string('#', filled)}{new string('-', Width - filled)}] {done,4:P0} {report.Rows:N0} rows ({report.Created:N0} created, {report.Updated:N0} updated, {report.Unchanged:N0} unchanged, {report.Rejected:N0} rejected) {rate:N0} rows/s {_clock.Elapsed:mm\\:ss}"));
            error.Flush();
        }
    }
}
