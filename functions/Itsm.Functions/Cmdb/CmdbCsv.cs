using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using CsvHelper;
using CsvHelper.Configuration;

namespace Itsm.Functions.Cmdb;

[JsonConverter(typeof(JsonStringEnumConverter<ImportKind>))]
public enum ImportKind
{
    Cis,
    Relationships,
}

/// <summary>A data row of a CSV file: its row number (the header is row 1, as a spreadsheet shows it) and its cells by column.</summary>
public sealed record CsvRow(int Row, IReadOnlyDictionary<string, string> Cells);

/// <summary>Why a row (or the file, row 0 or 1) was rejected: the row number, the column (empty when not one column) and the reason.</summary>
public sealed record RowError(int Row, string Column, string Reason);

/// <summary>Either a row to import or a row that could not be read.</summary>
public sealed record CsvItem(CsvRow? Row, RowError? Error);

/// <summary>
/// Reads CMDB CSV files with CsvHelper: comma-separated, UTF-8, a header line naming the columns. File-level
/// problems (no header, another delimiter, unknown or missing columns, bad encoding) stop the file before any
/// row is applied; row-level problems (wrong field count, malformed quoting, an overlong field) reject that row only.
/// </summary>
public sealed class CmdbCsvReader : IDisposable
{
    public const int MaxFieldLength = 8_192;

    public static readonly string[] CiColumns = ["externalKey", "class", "name", "status", "environment", "criticality", "ownerGroup", "supportGroup", "description"];
    public static readonly string[] CiRequiredColumns = ["externalKey", "class", "name"];
    public static readonly string[] RelationshipColumns = ["sourceKey", "type", "targetKey"];
    public const string AttributePrefix = "attr.";

    private readonly CsvReader _csv;
    private bool _badData;

    private CmdbCsvReader(TextReader reader, ImportKind kind)
    {
        Kind = kind;
        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            Delimiter = ",",
            DetectDelimiter = false,
            BadDataFound = _ => _badData = true,
            MissingFieldFound = null,
            HeaderValidated = null,
            TrimOptions = TrimOptions.Trim,
            IgnoreBlankLines = true,
            MaxFieldSize = MaxFieldLength,
        };
        _csv = new CsvReader(reader, configuration);
    }

    public ImportKind Kind { get; }

    public IReadOnlyList<string> Header { get; private set; } = [];

    /// <summary>Opens a file and reads its header; the problems are file-level (the file must not be applied at all when any).</summary>
    public static CmdbCsvReader Open(TextReader reader, ImportKind kind, out List<RowError> problems)
    {
        var csv = new CmdbCsvReader(reader, kind);
        problems = csv.ReadHeader();
        return csv;
    }

    /// <summary>A strict UTF-8 reader: invalid bytes raise <see cref="DecoderFallbackException"/> instead of becoming U+FFFD.</summary>
    public static StreamReader Utf8(Stream stream) => new(stream, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);

    public IEnumerable<CsvItem> Rows()
    {
        while (true)
        {
            bool more;
            RowError? fatal = null;
            try
            {
                _badData = false;
                more = _csv.Read();
            }
            catch (CsvHelperException ex) when (ex is not BadDataException)
            {
                more = false;
                fatal = new RowError(_csv.Parser.Row, "", ex is MaxFieldSizeException
                    ? $"has a field longer than {MaxFieldLength} characters; the rest of the file was not read."
                    : $"could not be read ({ex.GetType().Name}); the rest of the file was not read.");
            }
            catch (DecoderFallbackException)
            {
                more = false;
                fatal = new RowError(_csv.Parser.Row, "", "is not valid UTF-8; the rest of the file was not read.");
            }

            if (fatal is not null)
            {
                yield return new CsvItem(null, fatal);
            }

            if (!more)
            {
                yield break;
            }

            var row = _csv.Parser.Row;
            var record = _csv.Parser.Record ?? [];
            if (_badData)
            {
                yield return new CsvItem(null, new RowError(row, "", "has malformed quoting (a quote inside an unquoted field, or an unclosed quote)."));
                continue;
            }

            if (record.Length != Header.Count)
            {
                yield return new CsvItem(null, new RowError(row, "", $"has {record.Length} fields; the header has {Header.Count}."));
                continue;
            }

            var cells = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < record.Length; i++)
            {
                cells[Header[i]] = record[i];
            }

            yield return new CsvItem(new CsvRow(row, cells), null);
        }
    }

    public void Dispose() => _csv.Dispose();

    private List<RowError> ReadHeader()
    {
        var problems = new List<RowError>();
        try
        {
            if (!_csv.Read())
            {
                problems.Add(new RowError(1, "", $"The file is empty; its first line must be the header ({string.Join(",", Required)})."));
                return problems;
            }

            _csv.ReadHeader();
        }
        catch (DecoderFallbackException)
        {
            problems.Add(new RowError(1, "", "The file is not valid UTF-8."));
            return problems;
        }
        catch (CsvHelperException ex)
        {
            problems.Add(new RowError(1, "", $"The header could not be read ({ex.GetType().Name})."));
            return problems;
        }

        Header = (_csv.HeaderRecord ?? []).Select(h => h.Trim()).ToArray();
        if (Header.Count == 1 && Header[0].IndexOfAny([';', '\t', '|']) >= 0)
        {
            var found = Header[0].First(c => c is ';' or '\t' or '|');
            problems.Add(new RowError(1, "", $"The delimiter must be a comma; the header looks separated by '{(found == '\t' ? "\\t" : found.ToString())}'."));
            return problems;
        }

        var known = Kind == ImportKind.Cis ? CiColumns : RelationshipColumns;
        foreach (var column in Header.GroupBy(h => h, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add(new RowError(1, column.Key, "appears more than once in the header."));
        }

        foreach (var column in Header.Where(h => !known.Contains(h) && !(Kind == ImportKind.Cis && h.StartsWith(AttributePrefix, StringComparison.Ordinal) && CiClasses.NamePattern().IsMatch(h[AttributePrefix.Length..]))))
        {
            problems.Add(new RowError(1, column, $"is not a known column (columns: {string.Join(", ", known)}{(Kind == ImportKind.Cis ? ", attr.<attribute>" : "")})."));
        }

        var missing = Required.Where(c => !Header.Contains(c)).ToArray();
        if (missing.Length > 0)
        {
            problems.Add(new RowError(1, "", $"The header lacks {string.Join(", ", missing)}; the first line must be the header."));
        }

        return problems;
    }

    private string[] Required => Kind == ImportKind.Cis ? CiRequiredColumns : RelationshipColumns;
}
