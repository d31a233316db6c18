using Itsm.Functions.Storage;

namespace Itsm.Functions.Tests.Storage;

public sealed record Person(string Id, string Name);

public sealed record TestTicket(
    string Id,
    string TenantId,
    string TicketId,
    string Title,
    string Status,
    int Priority,
    DateTimeOffset OpenedAt,
    bool Major,
    IReadOnlyList<string> Tags,
    Person? Assignee = null);

/// <summary>
/// The document-store contract (IDocumentStore): every adapter runs these tests through a concrete subclass.
/// Each test uses containers of its own, so tests never see each other's documents.
/// </summary>
public abstract class DocumentStoreContract
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    protected DocumentStoreContract()
    {
        var suffix = Guid.NewGuid().ToString("N")[..12];
        IndexedField[] fields =
        [
            new("status", "$.status", FieldType.Text),
            new("title", "$.title", FieldType.Text),
            new("priority", "$.priority", FieldType.Number),
            new("openedAt", "$.openedAt", FieldType.Instant),
            new("major", "$.major", FieldType.Boolean),
            new("tags", "$.tags", FieldType.TextArray),
            new("assignee", "$.assignee.id", FieldType.Text),
        ];

        // Hierarchical like tickets and their audit events: /tenantId then /ticketId.
        Tickets = new ContainerDefinition("tickets_" + suffix, ["/tenantId", "/ticketId"], fields);

        // One level, like a per-tenant catalogue.
        Flat = new ContainerDefinition("flat_" + suffix, ["/tenantId"], fields);
    }

    protected ContainerDefinition Tickets { get; }

    protected ContainerDefinition Flat { get; }

    /// <summary>A store with the given containers available (and empty).</summary>
    protected abstract Task<IDocumentStore> CreateStoreAsync(IReadOnlyList<ContainerDefinition> containers);

    private Task<IDocumentStore> StoreAsync() => CreateStoreAsync([Tickets, Flat]);

    private static TestTicket Ticket(string tenant, string ticket, string id, int priority = 3, string status = "Open", string title = "Printer jammed", string[]? tags = null, int minutes = 0, bool major = false, string? assignee = null) =>
        new(id, tenant, ticket, title, status, priority, T0.AddMinutes(minutes), major, tags ?? [], assignee is null ? null : new Person(assignee, assignee.ToUpperInvariant()));

    private static DocumentKey KeyOf(TestTicket t) => new(DocumentKey.Compose(t.TenantId, t.TicketId), t.Id);

    private static DocumentKey FlatKeyOf(TestTicket t) => new(t.TenantId, t.Id);

    private static async Task<List<StoredDocument<TestTicket>>> All(IDocumentStore store, ContainerDefinition container, DocumentQuery query)
    {
        var all = new List<StoredDocument<TestTicket>>();
        var next = query;
        while (true)
        {
            var page = await store.QueryAsync<TestTicket>(container, next);
            Assert.True(page.Items.Count <= query.PageSize);
            all.AddRange(page.Items);
            if (page.ContinuationToken is null)
            {
                return all;
            }

            next = query with { ContinuationToken = page.ContinuationToken };
        }
    }

    private async Task<IDocumentStore> FlatStoreWith(params TestTicket[] tickets)
    {
        var store = await StoreAsync();
        foreach (var t in tickets)
        {
            await store.CreateAsync(Flat, FlatKeyOf(t), t);
        }

        return store;
    }

    private async Task<List<string>> Ids(IDocumentStore store, string? partition, QuerySort? sort, params QueryFilter[] filters) =>
        (await All(store, Flat, new DocumentQuery(partition, filters, sort, 50))).Select(d => d.Key.Id).ToList();

    // ---- point operations -------------------------------------------------------------------------

    [ContractFact]
    public async Task Created_document_reads_back_with_the_same_etag()
    {
        var store = await StoreAsync();
        var ticket = Ticket("contoso", "T-1", "T-1", tags: ["vpn"], assignee: "ana");

        var created = await store.CreateAsync(Tickets, KeyOf(ticket), ticket);
        var read = await store.ReadAsync<TestTicket>(Tickets, KeyOf(ticket));

        Assert.NotNull(read);
        Assert.False(string.IsNullOrEmpty(created.ETag));
        Assert.Equal(created.ETag, read.ETag);
        Assert.Equal(ticket.Title, read.Document.Title);
        Assert.Equal(ticket.OpenedAt, read.Document.OpenedAt);
        Assert.Equal(["vpn"], read.Document.Tags);
        Assert.Equal("ana", read.Document.Assignee?.Id);
    }

    [ContractFact(ContractFeature.ReadsOfMissingDocuments)]
    public async Task Reading_a_missing_document_gives_null()
    {
        var store = await StoreAsync();

        Assert.Null(await store.ReadAsync<TestTicket>(Tickets, new DocumentKey("contoso|T-404", "T-404")));
    }

    [ContractFact]
    public async Task Creating_an_existing_id_in_the_partition_conflicts()
    {
        var store = await StoreAsync();
        var ticket = Ticket("contoso", "T-1", "T-1");
        await store.CreateAsync(Tickets, KeyOf(ticket), ticket);

        await Assert.ThrowsAsync<DocumentConflictException>(() => store.CreateAsync(Tickets, KeyOf(ticket), ticket with { Title = "again" }));
        Assert.Equal("Printer jammed", (await store.ReadAsync<TestTicket>(Tickets, KeyOf(ticket)))!.Document.Title);
    }

    [ContractFact]
    public async Task The_same_id_in_another_partition_is_another_document()
    {
        var store = await StoreAsync();
        var a = Ticket("contoso", "T-1", "event-1", title: "a");
        var b = Ticket("fabrikam", "T-1", "event-1", title: "b");

        await store.CreateAsync(Tickets, KeyOf(a), a);
        await store.CreateAsync(Tickets, KeyOf(b), b);

        Assert.Equal("a", (await store.ReadAsync<TestTicket>(Tickets, KeyOf(a)))!.Document.Title);
        Assert.Equal("b", (await store.ReadAsync<TestTicket>(Tickets, KeyOf(b)))!.Document.Title);
    }

    [ContractFact]
    public async Task Replace_with_the_current_etag_writes_and_gives_a_new_etag()
    {
        var store = await StoreAsync();
        var ticket = Ticket("contoso", "T-1", "T-1");
        var created = await store.CreateAsync(Tickets, KeyOf(ticket), ticket);

        var replaced = await store.ReplaceAsync(Tickets, KeyOf(ticket), ticket with { Status = "Resolved" }, created.ETag);

        Assert.NotEqual(created.ETag, replaced.ETag);
        var read = await store.ReadAsync<TestTicket>(Tickets, KeyOf(ticket));
        Assert.Equal("Resolved", read!.Document.Status);
        Assert.Equal(replaced.ETag, read.ETag);
    }

    [ContractFact]
    public async Task Replace_with_a_stale_etag_fails_and_keeps_the_newer_version()
    {
        var store = await StoreAsync();
        var ticket = Ticket("contoso", "T-1", "T-1");
        var created = await store.CreateAsync(Tickets, KeyOf(ticket), ticket);
        await store.ReplaceAsync(Tickets, KeyOf(ticket), ticket with { Status = "InProgress" }, created.ETag);

        await Assert.ThrowsAsync<PreconditionFailedException>(() => store.ReplaceAsync(Tickets, KeyOf(ticket), ticket with { Status = "Closed" }, created.ETag));
        Assert.Equal("InProgress", (await store.ReadAsync<TestTicket>(Tickets, KeyOf(ticket)))!.Document.Status);
    }

    [ContractFact]
    public async Task Replacing_a_missing_document_is_not_found()
    {
        var store = await StoreAsync();
        var ticket = Ticket("contoso", "T-1", "T-1");

        await Assert.ThrowsAsync<DocumentNotFoundException>(() => store.ReplaceAsync(Tickets, KeyOf(ticket), ticket, "\"whatever\""));
    }

    [ContractFact]
    public async Task Of_two_concurrent_writers_with_the_same_etag_exactly_one_wins()
    {
        var store = await StoreAsync();
        var ticket = Ticket("contoso", "T-1", "T-1");
        var created = await store.CreateAsync(Tickets, KeyOf(ticket), ticket);

        async Task<string?> Write(string assignee)
        {
            try
            {
                await store.ReplaceAsync(Tickets, KeyOf(ticket), ticket with { Assignee = new Person(assignee, assignee) }, created.ETag);
                return assignee;
            }
            catch (PreconditionFailedException)
            {
                return null;
            }
        }

        var results = await Task.WhenAll(Task.Run(() => Write("ana")), Task.Run(() => Write("bo")));

        var winner = Assert.Single(results, r => r is not null);
        Assert.Equal(winner, (await store.ReadAsync<TestTicket>(Tickets, KeyOf(ticket)))!.Document.Assignee?.Id);
    }

    [ContractFact(ContractFeature.ReadsOfMissingDocuments)]
    public async Task Delete_removes_the_document_and_reports_a_missing_one()
    {
        var store = await StoreAsync();
        var ticket = Ticket("contoso", "T-1", "T-1");
        await store.CreateAsync(Tickets, KeyOf(ticket), ticket);

        Assert.True(await store.DeleteAsync(Tickets, KeyOf(ticket)));
        Assert.Null(await store.ReadAsync<TestTicket>(Tickets, KeyOf(ticket)));
        Assert.False(await store.DeleteAsync(Tickets, KeyOf(ticket)));
    }

    [ContractFact(ContractFeature.ReadsOfMissingDocuments)]
    public async Task Delete_with_a_stale_etag_fails_and_with_the_current_one_succeeds()
    {
        var store = await StoreAsync();
        var ticket = Ticket("contoso", "T-1", "T-1");
        var created = await store.CreateAsync(Tickets, KeyOf(ticket), ticket);
        var replaced = await store.ReplaceAsync(Tickets, KeyOf(ticket), ticket with { Status = "Closed" }, created.ETag);

        await Assert.ThrowsAsync<PreconditionFailedException>(() => store.DeleteAsync(Tickets, KeyOf(ticket), created.ETag));
        Assert.NotNull(await store.ReadAsync<TestTicket>(Tickets, KeyOf(ticket)));
        Assert.True(await store.DeleteAsync(Tickets, KeyOf(ticket), replaced.ETag));
        Assert.Null(await store.ReadAsync<TestTicket>(Tickets, KeyOf(ticket)));
    }

    [ContractFact]
    public async Task A_document_whose_partition_properties_disagree_with_its_key_is_refused()
    {
        var store = await StoreAsync();
        var ticket = Ticket("contoso", "T-1", "T-1");

        await Assert.ThrowsAsync<ArgumentException>(() => store.CreateAsync(Tickets, new DocumentKey("fabrikam|T-1", "T-1"), ticket));
        await Assert.ThrowsAsync<ArgumentException>(() => store.CreateAsync(Tickets, new DocumentKey("contoso", "T-1"), ticket));
        await Assert.ThrowsAsync<ArgumentException>(() => store.CreateAsync(Tickets, new DocumentKey("contoso|T-1", "T-2"), ticket));
    }

    private static readonly string OddTitle = "Écran « noir » — it's \"dead\" 🖥️ 日本語 ' OR 1=1 --";

    private static TestTicket OddTicket() => Ticket("contoso", "T-1", "it's-\"quoted\"", title: OddTitle, tags: ["naïve", "a'b"]);

    [ContractFact]
    public async Task Unicode_and_quotes_round_trip()
    {
        var store = await FlatStoreWith(OddTicket());

        var read = await store.ReadAsync<TestTicket>(Flat, FlatKeyOf(OddTicket()));

        Assert.Equal(OddTitle, read!.Document.Title);
        Assert.Equal(["naïve", "a'b"], read.Document.Tags);
    }

    [ContractFact(ContractFeature.OrderedQueries)]
    public async Task Unicode_and_quotes_match_exactly_in_filters()
    {
        var store = await FlatStoreWith(OddTicket(), Ticket("contoso", "T-2", "plain"));

        Assert.Equal(["it's-\"quoted\""], await Ids(store, "contoso", null, new QueryFilter("title", FilterOperator.Equals, OddTitle)));
        Assert.Equal(["it's-\"quoted\""], await Ids(store, "contoso", null, new QueryFilter("tags", FilterOperator.ArrayContains, "a'b")));
        Assert.Equal(["it's-\"quoted\""], await Ids(store, "contoso", null, new QueryFilter("title", FilterOperator.Contains, "« NOIR »")));
    }

    // ---- batches ---------------------------------------------------------------------------------

    [ContractFact(ContractFeature.TransactionalBatch)]
    public async Task A_batch_applies_every_operation_and_returns_their_etags()
    {
        var store = await StoreAsync();
        var ticket = Ticket("contoso", "T-1", "T-1");
        var created = await store.CreateAsync(Tickets, KeyOf(ticket), ticket);
        var doomed = Ticket("contoso", "T-1", "note-0");
        await store.CreateAsync(Tickets, KeyOf(doomed), doomed);

        var etags = await store.ExecuteBatchAsync(Tickets, "contoso|T-1",
        [
            new BatchOperation.Replace("T-1", ticket with { Status = "Resolved" }, created.ETag),
            new BatchOperation.Create("event-1", Ticket("contoso", "T-1", "event-1", title: "resolved")),
            new BatchOperation.Upsert("event-2", Ticket("contoso", "T-1", "event-2", title: "closed")),
            new BatchOperation.Delete("note-0", null),
        ]);

        Assert.Equal(4, etags.Count);
        var read = await store.ReadAsync<TestTicket>(Tickets, KeyOf(ticket));
        Assert.Equal("Resolved", read!.Document.Status);
        Assert.Equal(etags[0], read.ETag);
        Assert.Equal(etags[1], (await store.ReadAsync<TestTicket>(Tickets, new DocumentKey("contoso|T-1", "event-1")))!.ETag);
        Assert.NotNull(await store.ReadAsync<TestTicket>(Tickets, new DocumentKey("contoso|T-1", "event-2")));
        Assert.Null(await store.ReadAsync<TestTicket>(Tickets, KeyOf(doomed)));
    }

    [ContractFact(ContractFeature.TransactionalBatch)]
    public async Task A_batch_with_a_failing_operation_writes_nothing()
    {
        var store = await StoreAsync();
        var ticket = Ticket("contoso", "T-1", "T-1");
        var created = await store.CreateAsync(Tickets, KeyOf(ticket), ticket);
        await store.ReplaceAsync(Tickets, KeyOf(ticket), ticket with { Status = "InProgress" }, created.ETag);

        await Assert.ThrowsAsync<PreconditionFailedException>(() => store.ExecuteBatchAsync(Tickets, "contoso|T-1",
        [
            new BatchOperation.Create("event-1", Ticket("contoso", "T-1", "event-1")),
            new BatchOperation.Upsert("event-2", Ticket("contoso", "T-1", "event-2")),
            new BatchOperation.Replace("T-1", ticket with { Status = "Resolved" }, created.ETag),
        ]));
        await Assert.ThrowsAsync<DocumentConflictException>(() => store.ExecuteBatchAsync(Tickets, "contoso|T-1",
        [
            new BatchOperation.Create("event-3", Ticket("contoso", "T-1", "event-3")),
            new BatchOperation.Create("T-1", ticket),
        ]));

        Assert.Null(await store.ReadAsync<TestTicket>(Tickets, new DocumentKey("contoso|T-1", "event-1")));
        Assert.Null(await store.ReadAsync<TestTicket>(Tickets, new DocumentKey("contoso|T-1", "event-2")));
        Assert.Null(await store.ReadAsync<TestTicket>(Tickets, new DocumentKey("contoso|T-1", "event-3")));
        Assert.Equal("InProgress", (await store.ReadAsync<TestTicket>(Tickets, KeyOf(ticket)))!.Document.Status);
    }

    [ContractFact(ContractFeature.TransactionalBatch)]
    public async Task Many_batches_apply_each_on_its_own_and_report_the_ones_that_failed()
    {
        var store = await StoreAsync();
        var ticket = Ticket("contoso", "T-2", "T-2");
        var created = await store.CreateAsync(Tickets, KeyOf(ticket), ticket);
        await store.ReplaceAsync(Tickets, KeyOf(ticket), ticket with { Status = "InProgress" }, created.ETag);
        await store.CreateAsync(Tickets, KeyOf(Ticket("contoso", "T-3", "T-3")), Ticket("contoso", "T-3", "T-3"));

        var results = await store.ExecuteBatchesAsync(Tickets,
        [
            new PartitionBatch("contoso|T-1", [new BatchOperation.Create("T-1", Ticket("contoso", "T-1", "T-1")), new BatchOperation.Create("event-1", Ticket("contoso", "T-1", "event-1"))]),
            new PartitionBatch("contoso|T-2", [new BatchOperation.Create("event-2", Ticket("contoso", "T-2", "event-2")), new BatchOperation.Replace("T-2", ticket with { Status = "Resolved" }, created.ETag)]),
            new PartitionBatch("contoso|T-3", [new BatchOperation.Create("event-3", Ticket("contoso", "T-3", "event-3")), new BatchOperation.Create("T-3", Ticket("contoso", "T-3", "T-3"))]),
            new PartitionBatch("fabrikam|T-1", [new BatchOperation.Create("T-1", Ticket("fabrikam", "T-1", "T-1", status: "New"))]),
        ]);

        Assert.Equal([true, false, false, true], results.Select(r => r.Succeeded));
        Assert.IsType<PreconditionFailedException>(results[1].Failure);
        Assert.IsType<DocumentConflictException>(results[2].Failure);
        Assert.Equal(2, results[0].ETags.Count);
        Assert.Equal(results[0].ETags[1], (await store.ReadAsync<TestTicket>(Tickets, new DocumentKey("contoso|T-1", "event-1")))!.ETag);
        Assert.Equal("New", (await store.ReadAsync<TestTicket>(Tickets, new DocumentKey("fabrikam|T-1", "T-1")))!.Document.Status);

        // A failed batch leaves nothing of its own, the operations before its failing one included.
        Assert.Null(await store.ReadAsync<TestTicket>(Tickets, new DocumentKey("contoso|T-2", "event-2")));
        Assert.Null(await store.ReadAsync<TestTicket>(Tickets, new DocumentKey("contoso|T-3", "event-3")));
        Assert.Equal("InProgress", (await store.ReadAsync<TestTicket>(Tickets, KeyOf(ticket)))!.Document.Status);
    }

    // ---- filters -----------------------------------------------------------------------------------

    private Task<IDocumentStore> FiveTickets() => FlatStoreWith(
        Ticket("contoso", "T-1", "a", priority: 1, status: "Open", title: "VPN down for Sales", tags: ["vpn", "network"], minutes: 0, major: true, assignee: "ana"),
        Ticket("contoso", "T-2", "b", priority: 2, status: "InProgress", title: "New laptop", tags: ["hardware"], minutes: 10, assignee: "bo"),
        Ticket("contoso", "T-3", "c", priority: 3, status: "Resolved", title: "Printer jammed", tags: [], minutes: 20, assignee: "ana"),
        Ticket("contoso", "T-4", "d", priority: 4, status: "Open", title: "vpn slow", tags: ["vpn"], minutes: 30),
        Ticket("contoso", "T-5", "e", priority: 5, status: "Closed", title: "Password reset", tags: ["identity", "network"], minutes: 40));

    private async Task AssertFilter(string[] expected, string field, FilterOperator op, object? value)
    {
        var store = await FiveTickets();
        Assert.Equal(expected, await Ids(store, "contoso", null, new QueryFilter(field, op, value)));
    }

    [ContractFact(ContractFeature.OrderedQueries)]
    public Task Equals_matches_a_text_field() => AssertFilter(["a", "d"], "status", FilterOperator.Equals, "Open");

    [ContractFact(ContractFeature.OrderedQueries)]
    public Task NotEquals_excludes_the_value() => AssertFilter(["b", "c", "e"], "status", FilterOperator.NotEquals, "Open");

    [ContractFact(ContractFeature.OrderedQueries)]
    public Task LessThan_compares_numbers() => AssertFilter(["a", "b"], "priority", FilterOperator.LessThan, 3);

    [ContractFact(ContractFeature.OrderedQueries)]
    public Task LessThanOrEqual_compares_numbers() => AssertFilter(["a", "b", "c"], "priority", FilterOperator.LessThanOrEqual, 3);

    [ContractFact(ContractFeature.OrderedQueries)]
    public Task GreaterThan_compares_instants() => AssertFilter(["d", "e"], "openedAt", FilterOperator.GreaterThan, T0.AddMinutes(20));

    [ContractFact(ContractFeature.OrderedQueries)]
    public Task GreaterThanOrEqual_compares_instants() => AssertFilter(["c", "d", "e"], "openedAt", FilterOperator.GreaterThanOrEqual, T0.AddMinutes(20));

    [ContractFact(ContractFeature.OrderedQueries)]
    public Task In_matches_any_listed_value() => AssertFilter(["b", "c", "e"], "status", FilterOperator.In, new[] { "InProgress", "Resolved", "Closed" });

    [ContractFact(ContractFeature.OrderedQueries)]
    public Task Contains_is_a_case_insensitive_substring_match() => AssertFilter(["a", "d"], "title", FilterOperator.Contains, "VPN");

    [ContractFact(ContractFeature.OrderedQueries)]
    public Task ArrayContains_matches_any_element() => AssertFilter(["a", "e"], "tags", FilterOperator.ArrayContains, "network");

    [ContractFact(ContractFeature.OrderedQueries)]
    public Task Equals_matches_booleans() => AssertFilter(["a"], "major", FilterOperator.Equals, true);

    [ContractFact(ContractFeature.OrderedQueries)]
    public Task Equals_matches_nested_paths() => AssertFilter(["a", "c"], "assignee", FilterOperator.Equals, "ana");

    [ContractFact(ContractFeature.OrderedQueries)]
    public async Task Filters_combine_with_and()
    {
        var store = await FiveTickets();

        Assert.Equal(["d"], await Ids(store, "contoso", null,
            new QueryFilter("tags", FilterOperator.ArrayContains, "vpn"),
            new QueryFilter("priority", FilterOperator.GreaterThan, 1)));
    }

    // ---- sorting and paging ------------------------------------------------------------------------

    private Task<IDocumentStore> TiedTickets() => FlatStoreWith(
        Ticket("contoso", "T-1", "k", priority: 2),
        Ticket("contoso", "T-2", "b", priority: 1),
        Ticket("contoso", "T-3", "z", priority: 2),
        Ticket("contoso", "T-4", "a", priority: 2),
        Ticket("contoso", "T-5", "m", priority: 3));

    [ContractFact(ContractFeature.OrderedQueries)]
    public async Task Ascending_sort_breaks_ties_by_id()
    {
        var store = await TiedTickets();

        Assert.Equal(["b", "a", "k", "z", "m"], await Ids(store, "contoso", new QuerySort("priority", false)));
        Assert.Equal(["b", "a", "k", "z", "m"], (await All(store, Flat, new DocumentQuery("contoso", [], new QuerySort("priority", false), 2))).Select(d => d.Key.Id));
    }

    [ContractFact(ContractFeature.OrderedQueries)]
    public async Task Descending_sort_breaks_ties_by_id_descending()
    {
        var store = await TiedTickets();

        Assert.Equal(["m", "z", "k", "a", "b"], await Ids(store, "contoso", new QuerySort("priority", true)));
        Assert.Equal(["m", "z", "k", "a", "b"], (await All(store, Flat, new DocumentQuery("contoso", [], new QuerySort("priority", true), 2))).Select(d => d.Key.Id));
    }

    [ContractFact(ContractFeature.OrderedQueries)]
    public async Task Paging_while_documents_are_inserted_behind_the_cursor_neither_repeats_nor_skips()
    {
        var store = await StoreAsync();
        var existing = new List<string>();
        for (var i = 0; i < 23; i++)
        {
            var t = Ticket("contoso", $"T-{i}", $"t{i:D2}", priority: 10 + (i % 4), minutes: i);
            existing.Add(t.Id);
            await store.CreateAsync(Flat, FlatKeyOf(t), t);
        }

        var seen = new List<string>();
        var query = new DocumentQuery("contoso", [new QueryFilter("priority", FilterOperator.GreaterThanOrEqual, 0)], new QuerySort("priority", false), 4);
        var inserted = 0;
        while (true)
        {
            var page = await store.QueryAsync<TestTicket>(Flat, query);
            seen.AddRange(page.Items.Select(d => d.Key.Id));

            // Behind the cursor: a lower priority than anything paged so far.
            var late = Ticket("contoso", $"L-{inserted}", $"late{inserted++:D2}", priority: 1);
            await store.CreateAsync(Flat, FlatKeyOf(late), late);
            if (page.ContinuationToken is null)
            {
                break;
            }

            query = query with { ContinuationToken = page.ContinuationToken };
        }

        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Empty(existing.Except(seen));
        Assert.DoesNotContain(seen, id => id.StartsWith("late", StringComparison.Ordinal));
    }

    [ContractFact(ContractFeature.OrderedQueries)]
    public async Task A_continuation_token_is_refused_by_another_query_or_when_altered()
    {
        var store = await FiveTickets();
        var query = new DocumentQuery("contoso", [new QueryFilter("priority", FilterOperator.GreaterThan, 0)], new QuerySort("priority", false), 2);
        var token = (await store.QueryAsync<TestTicket>(Flat, query)).ContinuationToken;
        Assert.NotNull(token);

        await Assert.ThrowsAsync<InvalidContinuationTokenException>(() => store.QueryAsync<TestTicket>(Flat,
            query with { Filters = [new QueryFilter("priority", FilterOperator.GreaterThan, 1)], ContinuationToken = token }));
        await Assert.ThrowsAsync<InvalidContinuationTokenException>(() => store.QueryAsync<TestTicket>(Flat,
            query with { Sort = new QuerySort("priority", true), ContinuationToken = token }));
        await Assert.ThrowsAsync<InvalidContinuationTokenException>(() => store.QueryAsync<TestTicket>(Flat,
            query with { PartitionKey = "fabrikam", ContinuationToken = token }));
        var altered = token[..^3] + (token[^3] == 'A' ? 'B' : 'A') + token[^2..];
        await Assert.ThrowsAsync<InvalidContinuationTokenException>(() => store.QueryAsync<TestTicket>(Flat, query with { ContinuationToken = altered }));
        await Assert.ThrowsAsync<InvalidContinuationTokenException>(() => store.QueryAsync<TestTicket>(Flat, query with { ContinuationToken = "not a token!" }));

        // The same query with a different page size continues fine.
        var rest = await store.QueryAsync<TestTicket>(Flat, query with { PageSize = 10, ContinuationToken = token });
        Assert.Equal(["c", "d", "e"], rest.Items.Select(d => d.Key.Id));
    }

    // ---- partitions --------------------------------------------------------------------------------

    [ContractFact(ContractFeature.OrderedQueries)]
    public async Task A_query_on_one_tenant_never_returns_another_tenants_documents()
    {
        var store = await FlatStoreWith(
            Ticket("contoso", "T-1", "c1", tags: ["vpn"]),
            Ticket("fabrikam", "T-1", "f1", tags: ["vpn"]),
            Ticket("contoso", "T-2", "c2"),
            Ticket("fabrikam", "T-2", "f2"));

        Assert.Equal(["c1", "c2"], await Ids(store, "contoso", null));
        Assert.Equal(["f1"], await Ids(store, "fabrikam", null, new QueryFilter("tags", FilterOperator.ArrayContains, "vpn")));
        Assert.Equal(["c2", "c1"], await Ids(store, "contoso", new QuerySort("openedAt", true), new QueryFilter("status", FilterOperator.Equals, "Open")));
    }

    [ContractFact(ContractFeature.OrderedQueries)]
    public async Task A_first_level_prefix_query_returns_all_of_a_tenants_tickets_and_nothing_else()
    {
        var store = await StoreAsync();
        TestTicket[] tickets =
        [
            Ticket("contoso", "T-1", "T-1", tags: ["vpn"]),
            Ticket("contoso", "T-1", "event-1", tags: ["vpn"]),
            Ticket("contoso", "T-2", "T-2"),
            Ticket("fabrikam", "T-1", "T-1", tags: ["vpn"]),
            Ticket("contosox", "T-9", "T-9", tags: ["vpn"]),
        ];
        foreach (var t in tickets)
        {
            await store.CreateAsync(Tickets, KeyOf(t), t);
        }

        var tenant = await All(store, Tickets, new DocumentQuery("contoso", [], null, 2));
        Assert.Equal(["contoso|T-1/T-1", "contoso|T-1/event-1", "contoso|T-2/T-2"],
            tenant.Select(d => $"{d.Key.PartitionKey}/{d.Key.Id}").Order(StringComparer.Ordinal));

        var ticket = await All(store, Tickets, new DocumentQuery("contoso|T-1", [], null, 10));
        Assert.Equal(["T-1", "event-1"], ticket.Select(d => d.Key.Id));

        var tagged = await All(store, Tickets, new DocumentQuery("contoso", [new QueryFilter("tags", FilterOperator.ArrayContains, "vpn")], null, 10));
        Assert.Equal(["T-1", "event-1"], tagged.Select(d => d.Key.Id));
        Assert.All(tagged, d => Assert.Equal("contoso|T-1", d.Key.PartitionKey));
    }

    [ContractFact(ContractFeature.OrderedQueries, ContractFeature.CrossPartitionQueries)]
    public async Task A_query_without_partition_spans_all_partitions_in_order()
    {
        var store = await FlatStoreWith(
            Ticket("contoso", "T-1", "x", priority: 2, tags: ["vpn"]),
            Ticket("fabrikam", "T-1", "x", priority: 1, tags: ["vpn"]),
            Ticket("northwind", "T-1", "y", priority: 2));

        var all = await All(store, Flat, new DocumentQuery(null, [], new QuerySort("priority", false), 1));
        Assert.Equal(3, all.Count);
        Assert.Equal("fabrikam", all[0].Key.PartitionKey);
        Assert.Equal(["x", "x", "y"], all.Select(d => d.Key.Id));

        var tagged = await All(store, Flat, new DocumentQuery(null, [new QueryFilter("tags", FilterOperator.ArrayContains, "vpn")], null, 10));
        Assert.Equal(["contoso", "fabrikam"], tagged.Select(d => d.Key.PartitionKey).Order(StringComparer.Ordinal));
    }

    // ---- refusals ----------------------------------------------------------------------------------

    [ContractFact]
    public async Task Undeclared_fields_wrong_operators_and_page_sizes_are_refused()
    {
        var store = await StoreAsync();
        Task Query(DocumentQuery q) => store.QueryAsync<TestTicket>(Flat, q);

        await Assert.ThrowsAsync<ArgumentException>(() => Query(new DocumentQuery("contoso", [new QueryFilter("secret", FilterOperator.Equals, "x")], null, 10)));
        await Assert.ThrowsAsync<ArgumentException>(() => Query(new DocumentQuery("contoso", [], new QuerySort("secret", false), 10)));
        await Assert.ThrowsAsync<ArgumentException>(() => Query(new DocumentQuery("contoso", [new QueryFilter("tags", FilterOperator.Equals, "x")], null, 10)));
        await Assert.ThrowsAsync<ArgumentException>(() => Query(new DocumentQuery("contoso", [new QueryFilter("status", FilterOperator.ArrayContains, "x")], null, 10)));
        await Assert.ThrowsAsync<ArgumentException>(() => Query(new DocumentQuery("contoso", [new QueryFilter("priority", FilterOperator.Equals, "high")], null, 10)));
        await Assert.ThrowsAsync<ArgumentException>(() => Query(new DocumentQuery("contoso", [], new QuerySort("tags", false), 10)));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Query(new DocumentQuery("contoso", [], null, 0)));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Query(new DocumentQuery("contoso", [], null, 1001)));
    }
}
