using Itsm.Functions.Storage;
using Itsm.Functions.Storage.Sqlite;
using Itsm.Functions.Tests.Support;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Tests.Tickets;

/// <summary>Ticket numbers reserved in blocks from the tenant's counter (TicketStore.AllocateNumberAsync).</summary>
public class TicketNumberAllocationTests
{
    private static SqliteDocumentStore NewStore() => new(new SqliteDatabase(Path.Combine(TempDirectory.Create(), "numbers.db")));

    private static long Sequence(string number) => TicketNumbering.TryParse(number, out _, out var sequence) ? sequence : -1;

    [Fact]
    public async Task Concurrent_creates_in_one_process_get_unique_numbers_without_gaps()
    {
        var store = new TicketStore(NewStore());
        var numbers = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => Task.Run(() => store.AllocateNumberAsync("contoso", TicketType.Incident, CancellationToken.None))));

        Assert.Equal(Enumerable.Range(0, 500).Select(i => (long)i), numbers.Select(Sequence).Order());
    }

    [Fact]
    public async Task Two_processes_on_one_store_never_hand_out_the_same_number_and_a_restart_continues_after_the_reserved_block()
    {
        var documents = NewStore();
        var first = new TicketStore(documents);
        var second = new TicketStore(documents);
        var numbers = await Task.WhenAll(Enumerable.Range(0, 400).Select(i => Task.Run(() =>
            (i % 2 == 0 ? first : second).AllocateNumberAsync("contoso", TicketType.Incident, CancellationToken.None))));
        Assert.Equal(400, numbers.Distinct().Count());

        // Everything handed out is below the counter; a restarted process starts at the counter, so never reuses one.
        var counter = await documents.ReadAsync<TicketCounter>(TicketStore.Counters, new DocumentKey("contoso", "INC"));
        Assert.True(numbers.Select(Sequence).Max() < counter!.Document.Next);
        var restarted = new TicketStore(documents);
        Assert.Equal(counter.Document.Next, Sequence(await restarted.AllocateNumberAsync("contoso", TicketType.Incident, CancellationToken.None)));
        Assert.True(counter.Document.Next - 400 <= 2 * TicketStore.MaxNumberBlock, "at most one unused block per process");
    }

    [Fact]
    public async Task A_quiet_tenant_reserves_one_number_at_a_time_and_types_and_tenants_count_apart()
    {
        var documents = NewStore();
        var store = new TicketStore(documents);
        Assert.Equal("INC0001001", await store.AllocateNumberAsync("contoso", TicketType.Incident, CancellationToken.None));
        Assert.Equal("REQ0001001", await store.AllocateNumberAsync("contoso", TicketType.ServiceRequest, CancellationToken.None));
        Assert.Equal("INC0001001", await store.AllocateNumberAsync("fabrikam", TicketType.Incident, CancellationToken.None));

        // The first block of a type is one number: a process that stops now leaves no gap.
        var counter = await documents.ReadAsync<TicketCounter>(TicketStore.Counters, new DocumentKey("contoso", "INC"));
        Assert.Equal(1, counter!.Document.Next);
        Assert.Equal("INC0001002", await new TicketStore(documents).AllocateNumberAsync("contoso", TicketType.Incident, CancellationToken.None));
    }
}
