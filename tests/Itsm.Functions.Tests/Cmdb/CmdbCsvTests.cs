using System.Text;
using Itsm.Functions.Cmdb;

namespace Itsm.Functions.Tests.Cmdb;

/// <summary>Reading CMDB CSV files: file-level problems stop the file, row-level problems reject one row.</summary>
public class CmdbCsvTests
{
    private static (List<RowError> Problems, List<CsvItem> Items) Read(string text, ImportKind kind = ImportKind.Cis) => CmdbImporter.ReadAll(text, kind);

    [Fact]
    public void A_semicolon_separated_file_is_refused_naming_the_delimiter()
    {
        var (problems, items) = Read("externalKey;class;name\nk;server;web\n");

        Assert.Empty(items);
        Assert.Contains("delimiter must be a comma", Assert.Single(problems).Reason);
    }

    [Fact]
    public void A_file_without_its_header_line_is_refused()
    {
        var (problems, _) = Read("srv-1,server,web-01\n");

        Assert.Contains(problems, p => p.Reason.Contains("lacks externalKey, class, name", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Column == "srv-1");
    }

    [Fact]
    public void An_empty_file_and_an_unknown_column_are_refused()
    {
        Assert.Contains("empty", Assert.Single(Read("").Problems).Reason);
        Assert.Contains(Read("externalKey,class,name,colour\n").Problems, p => p.Column == "colour");
        Assert.Empty(Read("externalKey,class,name,attr.cpuCores\n").Problems);
    }

    [Fact]
    public void Text_that_was_not_utf8_is_refused()
    {
        var latin1 = Encoding.Latin1.GetBytes("externalKey,class,name\nk,server,Caf\u00e9\n");
        var decoded = Encoding.UTF8.GetString(latin1);

        Assert.Contains("UTF-8", Assert.Single(Read(decoded).Problems).Reason);
    }

    [Fact]
    public void A_strict_utf8_file_reader_reports_invalid_bytes_at_the_row_instead_of_guessing()
    {
        var bytes = Encoding.Latin1.GetBytes("externalKey,class,name\nk,server,Caf\u00e9\n");
        using var reader = CmdbCsvReader.Open(CmdbCsvReader.Utf8(new MemoryStream(bytes)), ImportKind.Cis, out var problems);

        var items = reader.Rows().ToList();

        var error = Assert.Single(items.Select(i => i.Error).Concat(problems));
        Assert.Contains("UTF-8", error!.Reason);
    }

    [Fact]
    public void Rows_with_the_wrong_field_count_or_bad_quoting_are_rejected_alone()
    {
        var (problems, items) = Read("externalKey,class,name\na,server,one\nb,server\nc,server,th\"ree\nd,server,four\n");

        Assert.Empty(problems);
        Assert.Equal(["a", "d"], items.Where(i => i.Row is not null).Select(i => i.Row!.Cells["externalKey"]));
        var errors = items.Where(i => i.Error is not null).Select(i => i.Error!).ToList();
        Assert.Equal([3, 4], errors.Select(e => e.Row));
        Assert.Contains("2 fields; the header has 3", errors[0].Reason);
        Assert.Contains("quoting", errors[1].Reason);
    }

    [Fact]
    public void A_huge_line_is_reported_with_its_row_and_the_rows_before_it_are_kept()
    {
        var huge = new string('x', CmdbCsvReader.MaxFieldLength + 10);
        var (_, items) = Read($"externalKey,class,name\na,server,one\nb,server,{huge}\n");

        Assert.Equal("a", items[0].Row!.Cells["externalKey"]);
        var error = items.Last().Error!;
        Assert.Equal(3, error.Row);
        Assert.Contains($"longer than {CmdbCsvReader.MaxFieldLength}", error.Reason);
    }

    [Fact]
    public void Quoted_fields_may_hold_commas_and_row_numbers_follow_the_records()
    {
        var (_, items) = Read("externalKey,class,name\n\"k,1\",server,\"web, front\"\nk2,server,two\n");

        Assert.Equal(("k,1", "web, front", 2), (items[0].Row!.Cells["externalKey"], items[0].Row!.Cells["name"], items[0].Row!.Row));
        Assert.Equal(3, items[1].Row!.Row);
    }
}
