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
    public async Task A_hierarchical_container_reads_a_partition_through_its_key_and_drops_per_partition_field_indexes_of_an_older_database()
    {
        var name = Tickets.Name;
        var first = new SqliteDocumentStore(_database);
        await first.CreateAsync(Tickets, new DocumentKey("contoso|T-1", "T-1"), Ticket("contoso", "T-1", "T-1"));
        using (var connection = _database.Open())
        {
            // What a database written before this change has: an index per field inside the partition.
            SqliteDatabase.Execute(connection, $"CREATE INDEX \"ix_{name}_status\" ON \"doc_{name}\" (pk, f_status, id)");
        }

        var later = new SqliteDocumentStore(_database);
        var page = await later.QueryAsync<TestTicket>(Tickets, new DocumentQuery("contoso|T-1", [new QueryFilter("status", FilterOperator.Equals, "Open")], new QuerySort("priority", false), 10));

        Assert.Equal(["T-1"], page.Items.Select(i => i.Document.Id));
        using (var connection = _database.Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'doc_{name}' AND name LIKE 'ix_%' AND name NOT LIKE '%_l1'";
            Assert.Equal(0L, command.ExecuteScalar());
        }

        var partitionPlan = Plan($"SELECT t.id FROM \"doc_{name}\" t WHERE t.pk = $p AND t.f_status = $s ORDER BY t.f_priority, t.id, t.pk", ("$p", "contoso|T-1"), ("$s", "Open"));
        Assert.Contains(partitionPlan, row => row.Contains("(pk=?", StringComparison.Ordinal));
        Assert.DoesNotContain(partitionPlan, row => row.StartsWith("SCAN", StringComparison.Ordinal) && !row.Contains("USING", StringComparison.Ordinal));
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

    private static ContainerDefinition TitleSearch(string name, bool fullText) => new(
        name,
        ["/tenantId", "/ticketId"],
        [
            new IndexedField("title", "$.title", FieldType.Text) { FullText = fullText },
            new IndexedField("status", "$.status", FieldType.Text),
            new IndexedField("openedAt", "$.openedAt", FieldType.Instant),
        ])
    {
        SortedIndexes = fullText ? [["status", "openedAt"]] : [],
    };

    private static readonly string[] Titles =
    [
        "VPN drops every hour", "vpn client crash", "Printer on floor 3 jams", "Error 0x80070005 on install",
        "Café menu screen frozen", "CAFÉ wifi", "say \"hello\" to the new laptop", "it", "Outlook: mailbox full (50 GB)",
        "İstanbul office VPN", "straße sign", "%_ wildcard title", "a", "Zebra printer labels",
    ];

    private static readonly string[] Searches =
    [
        "vpn", "VPN", "vpn d", "0x80070005", "caf", "café", "CAFÉ", "\"hello\"", "it", "i", "(50 gb)", "istanbul", "İstanbul",
        "strasse", "straße", "%_", "zebra", "no such thing", "o", "floor 3 jams", "er",
    ];

    private async Task<List<string>> SearchAsync(SqliteDocumentStore store, ContainerDefinition container, string text)
    {
        var page = await store.QueryAsync<TestTicket>(container, new DocumentQuery("contoso", [new QueryFilter("title", FilterOperator.Contains, text)], new QuerySort("openedAt", Descending: true), 100));
        return page.Items.Select(i => i.Key.Id).ToList();
    }

    [Fact]
    public async Task Text_search_through_the_trigram_index_finds_exactly_what_the_scan_finds_after_creates_updates_and_deletes()
    {
        var store = new SqliteDocumentStore(_database);
        var indexed = TitleSearch("search_fts", fullText: true);
        var scanned = TitleSearch("search_scan", fullText: false);
        for (var i = 0; i < Titles.Length; i++)
        {
            foreach (var container in new[] { indexed, scanned })
            {
                var t = Ticket("contoso", $"T-{i}", $"T-{i}") with { Title = Titles[i], OpenedAt = DateTimeOffset.UnixEpoch.AddMinutes(i) };
                await store.CreateAsync(container, new DocumentKey($"contoso|T-{i}", t.Id), t);
            }
        }

        // Another tenant's VPN ticket is never found.
        var other = Ticket("fabrikam", "F-1", "F-1") with { Title = "VPN" };
        await store.CreateAsync(indexed, new DocumentKey("fabrikam|F-1", "F-1"), other);

        foreach (var container in new[] { indexed, scanned })
        {
            var key = new DocumentKey("contoso|T-0", "T-0");
            var read = await store.ReadAsync<TestTicket>(container, key);
            await store.ReplaceAsync(container, key, read!.Document with { Title = "Keyboard sticky" }, read.ETag);
            await store.DeleteAsync(container, new DocumentKey("contoso|T-1", "T-1"));
        }

        foreach (var text in Searches)
        {
            Assert.Equal(await SearchAsync(store, scanned, text), await SearchAsync(store, indexed, text));
        }

        Assert.Equal(["T-9"], await SearchAsync(store, indexed, "vpn"));
        Assert.Equal(["T-0"], await SearchAsync(store, indexed, "sticky"));

        var plan = Plan(
            "SELECT t.id FROM \"doc_search_fts\" t WHERE t.pk1 = $p AND t.seq IN (SELECT rowid FROM \"doc_search_fts__fts\" WHERE \"doc_search_fts__fts\" MATCH $q) ORDER BY t.f_openedAt DESC",
            ("$p", "contoso"), ("$q", "{f_title} : \"zebra\""));
        Assert.Contains(plan, row => row.Contains("VIRTUAL TABLE INDEX", StringComparison.Ordinal));

        var sortedPlan = Plan(
            "SELECT t.id FROM \"doc_search_fts\" t WHERE t.pk1 = $p AND t.f_status = $s ORDER BY t.f_openedAt DESC, t.id DESC, t.pk DESC",
            ("$p", "contoso"), ("$s", "Open"));
        Assert.Contains(sortedPlan, row => row.Contains("ix_search_fts_status_openedAt_l1", StringComparison.Ordinal));
        Assert.DoesNotContain(sortedPlan, row => row.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_text_index_declared_later_is_filled_from_the_existing_documents()
    {
        var before = new SqliteDocumentStore(_database);
        var t = Ticket("contoso", "T-1", "T-1") with { Title = "VPN drops" };
        await before.CreateAsync(TitleSearch("search_later", fullText: false), new DocumentKey("contoso|T-1", "T-1"), t);

        var after = new SqliteDocumentStore(_database);
        Assert.Equal(["T-1"], await SearchAsync(after, TitleSearch("search_later", fullText: true), "vpn"));
        Assert.Empty(await SearchAsync(after, TitleSearch("search_later", fullText: true), "zebra"));
    }

    [Fact]
    public async Task A_common_search_term_pages_through_its_matches_in_sort_order_like_the_scan()
    {
        var store = new SqliteDocumentStore(_database);
        ContainerDefinition Flat(string name, bool fullText) => new(name, ["/tenantId"], [
            new IndexedField("title", "$.title", FieldType.Text) { FullText = fullText },
            new IndexedField("openedAt", "$.openedAt", FieldType.Instant),
        ]);
        var indexed = Flat("common_fts", fullText: true);
        var scanned = Flat("common_scan", fullText: false);
        var count = SqliteDocumentStore.DriveLimit + 100;
        foreach (var container in new[] { indexed, scanned })
        {
            for (var start = 0; start < count; start += 100)
            {
                var operations = Enumerable.Range(start, Math.Min(100, count - start)).Select(i =>
                    (BatchOperation)new BatchOperation.Create($"T-{i:D5}", Ticket("contoso", $"T-{i:D5}", $"T-{i:D5}") with { Title = i % 3 == 0 ? $"VPN drop {i}" : $"vpn slow {i}", OpenedAt = DateTimeOffset.UnixEpoch.AddMinutes(i % 50) })).ToList();
                await store.ExecuteBatchAsync(container, "contoso", operations);
            }
        }

        async Task<List<string>> PagesAsync(ContainerDefinition container, string text)
        {
            var ids = new List<string>();
            string? continuation = null;
            for (var page = 0; page < 3; page++)
            {
                var result = await store.QueryAsync<TestTicket>(container, new DocumentQuery("contoso", [new QueryFilter("title", FilterOperator.Contains, text)], new QuerySort("openedAt", Descending: true), 10, continuation));
                ids.AddRange(result.Items.Select(i => i.Key.Id));
                continuation = result.ContinuationToken;
            }

            return ids;
        }

        Assert.Equal(await PagesAsync(scanned, "vpn"), await PagesAsync(indexed, "vpn"));
        Assert.Equal(await PagesAsync(scanned, "drop 21"), await PagesAsync(indexed, "drop 21"));
        Assert.Empty(await PagesAsync(indexed, "zebra"));
    }

    [Fact]
    public async Task Filter_counts_choose_where_a_list_starts_and_every_plan_returns_the_same_pages()
    {
        var store = new SqliteDocumentStore(_database);
        var container = new ContainerDefinition("plans", ["/tenantId", "/ticketId"], [
            new IndexedField("status", "$.status", FieldType.Text),
            new IndexedField("priority", "$.priority", FieldType.Number),
            new IndexedField("openedAt", "$.openedAt", FieldType.Instant),
            new IndexedField("tags", "$.tags", FieldType.TextArray),
        ])
        {
            SortedIndexes = [["status", "openedAt"]],
        };

        // More documents than the drive limit: "common" and priority 3 are on nearly all, "New" on a tenth, P1 on five.
        var count = SqliteDocumentStore.DriveLimit + 200;
        var tickets = Enumerable.Range(0, count).Select(i => Ticket("contoso", $"T-{i:D5}", $"T-{i:D5}", i % 300 == 0 ? ["common", "rare"] : ["common"]) with
        {
            Status = i % 10 == 0 ? "New" : "Closed",
            Priority = i % 500 == 0 ? 1 : 3,
            OpenedAt = DateTimeOffset.UnixEpoch.AddMinutes(i * 7 % count),
        }).ToList();
        await store.ExecuteBatchesAsync(container, tickets.Select(t => new PartitionBatch($"contoso|{t.TicketId}", [new BatchOperation.Create(t.Id, t)])).ToList());
        var other = Ticket("fabrikam", "T-1", "T-1", "rare") with { Status = "Lost" };
        await store.CreateAsync(container, new DocumentKey("fabrikam|T-1", "T-1"), other);

        var issued = new List<string>();
        store.QueryIssued = issued.Add;
        async Task<(List<string> Ids, List<string> Sql)> ListAsync(params QueryFilter[] filters)
        {
            issued.Clear();
            var ids = new List<string>();
            string? continuation = null;
            do
            {
                var page = await store.QueryAsync<TestTicket>(container, new DocumentQuery("contoso", filters, new QuerySort("openedAt", Descending: true), 40, continuation));
                ids.AddRange(page.Items.Select(i => i.Key.Id));
                continuation = page.ContinuationToken;
            }
            while (continuation is not null);
            return (ids, [.. issued]);
        }

        List<string> Expected(Func<TestTicket, bool> match) =>
            tickets.Where(match).OrderByDescending(t => t.OpenedAt).ThenByDescending(t => t.Id).Select(t => t.Id).ToList();

        // The rarest filter's index: five P1s, not the 220 new tickets, and not a walk of the sort order.
        var p1 = await ListAsync(new QueryFilter("status", FilterOperator.Equals, "New"), new QueryFilter("priority", FilterOperator.In, new[] { 1, 2 }));
        Assert.Equal(Expected(t => t.Status == "New" && t.Priority <= 2), p1.Ids);
        Assert.Equal(5, p1.Ids.Count);
        Assert.All(p1.Sql, sql => Assert.Contains("INDEXED BY \"ix_plans_priority_l1\"", sql, StringComparison.Ordinal));

        // One value of a field with a filter-then-sort index: that index, which gives the matches in order.
        var fresh = await ListAsync(new QueryFilter("status", FilterOperator.Equals, "New"), new QueryFilter("tags", FilterOperator.ArrayContains, "common"));
        Assert.Equal(Expected(t => t.Status == "New"), fresh.Ids);
        Assert.All(fresh.Sql, sql => Assert.Contains("INDEXED BY \"ix_plans_status_openedAt_l1\"", sql, StringComparison.Ordinal));

        // A rare array value: from the documents it lists.
        var rare = await ListAsync(new QueryFilter("tags", FilterOperator.ArrayContains, "rare"), new QueryFilter("priority", FilterOperator.Equals, 3));
        Assert.Equal(Expected(t => t.Tags.Contains("rare") && t.Priority == 3), rare.Ids);
        Assert.All(rare.Sql, sql => Assert.Contains("NOT INDEXED", sql, StringComparison.Ordinal));

        // Every filter common: walk the sort order, the array value tested per document.
        var common = await ListAsync(new QueryFilter("tags", FilterOperator.ArrayContains, "common"), new QueryFilter("priority", FilterOperator.Equals, 3));
        Assert.Equal(Expected(t => t.Priority == 3), common.Ids);
        Assert.All(common.Sql, sql => Assert.Contains("EXISTS (SELECT 1", sql, StringComparison.Ordinal));
        Assert.All(common.Sql, sql => Assert.DoesNotContain("INDEXED", sql, StringComparison.Ordinal));

        // A filter without a match in this tenant (another tenant has one): an empty page without a query.
        var none = await ListAsync(new QueryFilter("status", FilterOperator.In, new[] { "Lost", "Stolen" }), new QueryFilter("priority", FilterOperator.Equals, 3));
        Assert.Empty(none.Ids);
        Assert.Empty(none.Sql);
        var noTag = await ListAsync(new QueryFilter("status", FilterOperator.Equals, "New"), new QueryFilter("tags", FilterOperator.ArrayContains, "missing"));
        Assert.Empty(noTag.Ids);
        Assert.Empty(noTag.Sql);
    }
}
