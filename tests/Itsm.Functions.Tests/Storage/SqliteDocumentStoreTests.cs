using Itsm.Functions.Storage;
using Itsm.Functions.Storage.Sqlite;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Storage;

/// <summary>The whole contract against the embedded SQLite adapter, plus checks of its schema and query plans.</summary>
public sealed class SqliteDocumentStoreTests : DocumentStoreContract
{
    private readonly SqliteDatabase _database = new(Path.Combine(TempDirectory.Create(), "store.db"));

    protected override Task<IDocumentStore> CreateStoreAsync(IReadOnlyList<ContainerDefinition> containers) =>
        Task.FromResult<IDocumentStore>(new SqliteDocumentStore(_database));

    private static TestTicket Ticket(string tenant, string ticket, string id, params string[] tags) =>
        new(id, tenant, ticket, "title", "Open", 3, DateTimeOffset.UnixEpoch, false, tags);

    private List<string> Plan(string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(reader.GetString(3));
        }

        return rows;
    }

    [Fact]
    public async Task ArrayContains_and_field_filters_are_index_lookups_not_scans()
    {
        var store = new SqliteDocumentStore(_database);
        for (var i = 0; i < 20; i++)
        {
            var t = Ticket("contoso", $"T-{i}", $"T-{i}", i % 2 == 0 ? "vpn" : "hardware");
            await store.CreateAsync(Tickets, new DocumentKey($"contoso|T-{i}", t.Id), t);
        }

        var name = Tickets.Name;
        var arrayPlan = Plan(
            $"SELECT t.id FROM \"doc_{name}\" t WHERE t.pk1 = $p AND t.seq IN (SELECT a.doc FROM \"doc_{name}__arr\" a WHERE a.field = 'tags' AND a.value = $v AND a.pk1 = $p)",
            ("$p", "contoso"), ("$v", "vpn"));
        Assert.DoesNotContain(arrayPlan, row => row.StartsWith("SCAN", StringComparison.Ordinal));

        var fieldPlan = Plan($"SELECT t.id FROM \"doc_{name}\" t WHERE t.pk1 = $p AND t.f_status = $s ORDER BY t.f_status, t.id, t.pk", ("$p", "contoso"), ("$s", "Open"));
        Assert.Contains(fieldPlan, row => row.Contains($"ix_{name}_status_l1", StringComparison.Ordinal));
        Assert.DoesNotContain(fieldPlan, row => row.StartsWith("SCAN", StringComparison.Ordinal) || row.Contains("TEMP B-TREE", StringComparison.Ordinal));

        var page = await store.QueryAsync<TestTicket>(Tickets, new DocumentQuery("contoso", [new QueryFilter("tags", FilterOperator.ArrayContains, "vpn")], null, 100));
        Assert.Equal(10, page.Items.Count);
    }

    [Fact]
    public async Task A_field_declared_later_is_added_and_backfilled_for_existing_documents()
    {
        var before = new ContainerDefinition(Flat.Name, Flat.PartitionKeyPaths, [new IndexedField("status", "$.status", FieldType.Text)]);
        var first = new SqliteDocumentStore(_database);
        await first.CreateAsync(before, new DocumentKey("contoso", "a"), Ticket("contoso", "T-1", "a", "vpn"));

        var later = new SqliteDocumentStore(_database);
        var page = await later.QueryAsync<TestTicket>(Flat, new DocumentQuery("contoso",
            [new QueryFilter("tags", FilterOperator.ArrayContains, "vpn"), new QueryFilter("priority", FilterOperator.Equals, 3)], null, 10));

        Assert.Equal("a", Assert.Single(page.Items).Key.Id);
    }

    [Fact]
    public async Task Documents_survive_reopening_the_database_file()
    {
        var store = new SqliteDocumentStore(_database);
        var created = await store.CreateAsync(Flat, new DocumentKey("contoso", "a"), Ticket("contoso", "T-1", "a"));

        var reopened = new SqliteDocumentStore(new SqliteDatabase(_database.Path));
        var read = await reopened.ReadAsync<TestTicket>(Flat, new DocumentKey("contoso", "a"));

        Assert.Equal(created.ETag, read!.ETag);
    }

    [Fact]
    public async Task Stored_json_uses_the_app_serializer_options()
    {
        var store = new SqliteDocumentStore(_database);
        await store.CreateAsync(Flat, new DocumentKey("contoso", "a"), Ticket("contoso", "T-1", "a"));

        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT body FROM \"doc_{Flat.Name}\"";
        var body = (string)command.ExecuteScalar()!;

        Assert.Contains("\"tenantId\":\"contoso\"", body, StringComparison.Ordinal);
        Assert.Contains("\"id\":\"a\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("\"assignee\"", body, StringComparison.Ordinal);
    }
}
