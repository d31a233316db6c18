using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Itsm.Functions.Hosting;
using Itsm.Functions.Storage;
using Itsm.Functions.Storage.Sqlite;
using Itsm.Functions.Tickets;
using Microsoft.Data.Sqlite;

namespace Itsm.Benchmarks;

/// <summary>
/// Fills an app database with tickets as the app writes them: per ticket the ticket document (revision 1) and
/// its "created" audit event (sequence 1) in the <c>tickets</c> container, and the per-tenant number counters.
/// The first ticket goes through <see cref="TicketStore.CreateAsync"/> (which also creates the table, indexes
/// and triggers); the rest are inserted with the same SQL as <see cref="SqliteDocumentStore"/> but many
/// tickets per transaction, after checking that the bodies serialise byte for byte as the store's.
/// The data spans three years up to 2026-11-22 with realistic mixes of types, states, priorities, people and CIs.
/// </summary>
internal static class TicketSeeder
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Start = Now.AddYears(-3);

    private static readonly string[] Components =
    [
        "Outlook", "VPN", "Laptop", "Printer", "Teams", "SharePoint", "Wi-Fi", "SAP", "Badge reader", "Monitor",
        "OneDrive", "Excel", "Docking station", "Phone", "Azure DevOps", "Payroll portal", "CRM", "Citrix", "MFA", "Keyboard",
    ];

    private static readonly string[] Problems =
    [
        "does not start", "is very slow", "keeps disconnecting", "cannot sign in", "needs replacement", "shows an error",
        "access request", "password reset", "freezes after update", "not syncing", "license expired", "cannot print",
    ];

    private static readonly string[] Groups =
    [
        "service-desk", "network", "end-user-computing", "identity", "collaboration", "erp", "security", "datacenter",
        "database", "facilities", "hr-systems", "finance-apps", "crm-team", "devops", "telephony", "field-services",
        "messaging", "storage", "cloud-platform", "change-advisory",
    ];

    private static readonly string[] Categories = ["hardware", "software", "network", "access", "account", "inquiry"];
    private static readonly string[] Channels = ["teams", "email", "api", "portal"];

    public static async Task<int> SeedAsync(string[] args)
    {
        var path = Measure.Option(args, "--db") ?? throw new ArgumentException("--db is required");
        var count = Measure.IntOption(args, "--count", 1_000_000);
        var tenant = Measure.Option(args, "--tenant") ?? "bench";
        var resume = args.Contains("--resume");
        if (File.Exists(path) && !resume)
        {
            Console.Error.WriteLine($"{path} exists; seed a fresh database, or pass --resume to add the tickets a stopped seed did not write.");
            return 2;
        }

        var watch = Stopwatch.StartNew();
        var database = new SqliteDatabase(path);
        var documents = new SqliteDocumentStore(database);
        var store = new TicketStore(documents);
        var numbers = new Dictionary<TicketType, long>();
        var seeded = resume && File.Exists(path) ? CountTickets(database, tenant) : 0;
        if (seeded == 0)
        {
            await SeedFirstAsync(database, store, count, tenant, numbers);
        }
        else
        {
            // Ticket 0 used its own generator; the rest draw from one sequence, replayed up to where the seed stopped.
            Generate(0, count, tenant, new Random(2026), numbers);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  resuming after {seeded:N0} tickets"));
        }

        // The rest in transactions of 10,000 tickets, generated on another core while the previous chunk is written.
        const int chunk = 10_000;
        var random = new Random(2026);
        random.Next(); // ticket 0 used its own generator
        var start = Math.Max(1, seeded);
        for (var i = 1; i < start; i++)
        {
            Generate(i, count, tenant, random, numbers);
        }

        List<(string Id, string Pk, string Ticket, string AuditId, string Audit)> Make(int from, int to)
        {
            var rows = new List<(string, string, string, string, string)>(to - from);
            for (var i = from; i < to; i++)
            {
                var (ticket, audit) = Generate(i, count, tenant, random, numbers);
                rows.Add((ticket.Id, DocumentKey.Compose(tenant, ticket.Id), Body(ticket with { Revision = 1 }), audit.Id, Body(audit.WithSequence(1))));
            }

            return rows;
        }

        using (var connection = database.Open())
        {
            // Seeding only: no fsync at commit (the rows are the same; a crash would just mean seeding again).
            SqliteDatabase.Execute(connection, "PRAGMA cache_size=-524288; PRAGMA synchronous=OFF;");
            var next = Task.Run(() => Make(start, Math.Min(count, start + chunk)));
            for (var from = start; from < count; from += chunk)
            {
                var rows = await next;
                var to = Math.Min(count, from + chunk);
                next = Task.Run(() => Make(to, Math.Min(count, to + chunk)));
                using var transaction = connection.BeginTransaction(deferred: false);
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "INSERT INTO \"doc_tickets\" (pk, pk1, id, etag, body) VALUES ($pk, $pk1, $id, $etag, $body) ON CONFLICT (pk, id) DO NOTHING";
                var pk = command.Parameters.Add("$pk", SqliteType.Text);
                var pk1 = command.Parameters.Add("$pk1", SqliteType.Text);
                var id = command.Parameters.Add("$id", SqliteType.Text);
                var etag = command.Parameters.Add("$etag", SqliteType.Text);
                var body = command.Parameters.Add("$body", SqliteType.Text);
                pk1.Value = tenant;
                command.Prepare();
                foreach (var row in rows)
                {
                    pk.Value = row.Pk;
                    (id.Value, etag.Value, body.Value) = (row.Id, NewETag(), row.Ticket);
                    command.ExecuteNonQuery();
                    (id.Value, etag.Value, body.Value) = (row.AuditId, NewETag(), row.Audit);
                    command.ExecuteNonQuery();
                }

                transaction.Commit();
                if ((to - 1) / 100_000 != (from - 1) / 100_000 || to == count)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {to:N0} tickets at {watch.Elapsed.TotalSeconds:F0} s"));
                }
            }

            await next;
            SqliteDatabase.Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE);");
        }

        // The number counters, as if every ticket had been numbered by the app.
        foreach (var (type, used) in numbers)
        {
            var key = new DocumentKey(tenant, TicketNumbering.Prefix(type));
            var counter = await documents.ReadAsync<TicketCounter>(TicketStore.Counters, key);
            var document = new TicketCounter(key.Id, tenant, used);
            _ = counter is null
                ? await documents.CreateAsync(TicketStore.Counters, key, document)
                : await documents.ReplaceAsync(TicketStore.Counters, key, document, counter.ETag);
        }

        watch.Stop();
        SqliteConnection.ClearAllPools();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seeded {count:N0} tickets ({2 * count:N0} documents; {count - seeded:N0} written now) in {watch.Elapsed.TotalSeconds:F0} s ({(count - seeded) / watch.Elapsed.TotalSeconds:F0} tickets/s written); {Measure.FileSizes(path)}; " +
            $"types {string.Join(", ", numbers.Select(n => $"{n.Key} {n.Value:N0}"))}; load average {Measure.LoadAverage()}"));
        return 0;
    }

    /// <summary>Ticket 0 through the app's own store: creates the schema; its body is the reference for the bulk path.</summary>
    private static async Task SeedFirstAsync(SqliteDatabase database, TicketStore store, int count, string tenant, Dictionary<TicketType, long> numbers)
    {
        var (firstTicket, firstAudit) = Generate(0, count, tenant, new Random(2026), numbers);
        await store.CreateAsync(firstTicket, firstAudit, CancellationToken.None);
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT body FROM \"doc_tickets\" WHERE id IN ($a, $b) ORDER BY id = $a DESC";
        command.Parameters.AddWithValue("$a", firstTicket.Id);
        command.Parameters.AddWithValue("$b", firstAudit.Id);
        using var reader = command.ExecuteReader();
        reader.Read();
        var storedTicket = reader.GetString(0);
        reader.Read();
        var storedAudit = reader.GetString(0);
        if (storedTicket != Body(firstTicket with { Revision = 1 }) || storedAudit != Body(firstAudit.WithSequence(1)))
        {
            throw new InvalidOperationException("The bulk path would not write the bodies the store writes.");
        }
    }

    /// <summary>The tenant's tickets already in the database (tickets are seeded in order, so this is where to go on).</summary>
    private static int CountTickets(SqliteDatabase database, string tenant)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM \"doc_tickets\" WHERE pk1 = $tenant AND \"f_docType\" = 'ticket'";
        command.Parameters.AddWithValue("$tenant", tenant);
        return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>What <see cref="SqliteDocumentStore"/> stores as the body: the document serialised with the app's options.</summary>
    private static string Body(object document) =>
        JsonSerializer.SerializeToNode(document, document.GetType(), HttpResults.Json)!.ToJsonString(HttpResults.Json);

    private static string NewETag() => "\"" + Guid.NewGuid().ToString("N") + "\"";

    /// <summary>
    /// Ticket i of n: created in order over three years (numbers rise with time); the last 30 days hold the open work.
    /// Agents agent-0000..0299 (skewed), requesters user-00000..49999, CIs ci-00000..19999 (ci-00000 the most used).
    /// </summary>
    private static (Ticket Ticket, AuditEvent Audit) Generate(int i, int n, string tenant, Random random, Dictionary<TicketType, long> numbers)
    {
        var createdAt = Start + ((Now - Start) * ((i + random.NextDouble()) / n));
        var roll = random.NextDouble();
        var type = roll < 0.60 ? TicketType.Incident : roll < 0.90 ? TicketType.ServiceRequest : roll < 0.95 ? TicketType.Problem : TicketType.Change;
        var number = TicketNumbering.Format(type, numbers.TryGetValue(type, out var used) ? used : 0);
        numbers[type] = used + 1;

        var age = Now - createdAt;
        var s = random.NextDouble();
        var state = age > TimeSpan.FromDays(30)
            ? s < 0.80 ? TicketState.Closed : s < 0.90 ? TicketState.Cancelled : TicketState.Resolved
            : s < 0.25 ? TicketState.New : s < 0.60 ? TicketState.InProgress : s < 0.70 ? TicketState.OnHold : s < 0.90 ? TicketState.Resolved : TicketState.Closed;
        state = (type, state) switch
        {
            (TicketType.Problem, TicketState.InProgress) => TicketState.RootCauseAnalysis,
            (TicketType.Problem, TicketState.OnHold) => TicketState.Assess,
            (TicketType.Problem, TicketState.Cancelled) => TicketState.Closed,
            (TicketType.Change, TicketState.InProgress) => TicketState.Implement,
            (TicketType.Change, TicketState.OnHold) => TicketState.Scheduled,
            (TicketType.Change, TicketState.Resolved) => TicketState.Review,
            _ => state,
        };

        int Level() => random.NextDouble() switch { < 0.1 => 1, < 0.4 => 2, _ => 3 };
        var (impact, urgency) = (Level(), Level());
        var requester = $"user-{random.Next(50_000):D5}";
        PersonRef? assignee = null;
        if (state != TicketState.New || random.NextDouble() < 0.5)
        {
            var agent = (int)(300 * Math.Pow(random.NextDouble(), 2));
            assignee = new PersonRef($"agent-{agent:D4}", $"Agent {agent}", $"agent{agent}@bench.example");
        }

        var cis = random.NextDouble() switch
        {
            < 0.40 => 0,
            < 0.85 => 1,
            _ => 2,
        };
        var configurationItems = Enumerable.Range(0, cis).Select(_ => $"ci-{(int)(20_000 * Math.Pow(random.NextDouble(), 3)):D5}").Distinct().ToArray();
        var component = Components[random.Next(Components.Length)];
        var problem = Problems[random.Next(Problems.Length)];
        var title = random.NextDouble() < 0.01 ? $"{component} {problem}: 0x80070005" : $"{component} {problem}";
        if (random.NextDouble() < 0.3)
        {
            title += $" on floor {random.Next(1, 12)}";
        }

        var updatedAt = createdAt + TimeSpan.FromHours(Math.Min(age.TotalHours, random.NextDouble() * 240));
        var channel = Channels[random.Next(Channels.Length)];
        var finished = state is TicketState.Closed or TicketState.Cancelled;
        var resolved = state is TicketState.Resolved or TicketState.Closed && type is TicketType.Incident or TicketType.ServiceRequest or TicketType.Problem;
        var ticket = new Ticket
        {
            Id = Guid.NewGuid().ToString("N"),
            TenantId = tenant,
            Number = number,
            Type = type,
            State = state,
            HoldReason = state == TicketState.OnHold ? HoldReason.AwaitingCaller : null,
            Title = title,
            Description = $"Reported via {channel}: {component.ToLowerInvariant()} {problem}. Tried restarting; the problem is still there. Reference {random.Next(1_000_000):D6}.",
            Impact = impact,
            Urgency = urgency,
            Priority = PriorityMatrix.Default.PriorityFor(impact, urgency),
            MajorIncident = type == TicketType.Incident && impact == 1 && urgency == 1 && random.NextDouble() < 0.05,
            Requester = new PersonRef(requester, $"User {requester[5..]}", $"{requester}@bench.example"),
            AssignmentGroup = Groups[(int)(Groups.Length * Math.Pow(random.NextDouble(), 1.5))],
            Assignee = assignee,
            Category = Categories[random.Next(Categories.Length)],
            AffectedService = component,
            ConfigurationItems = configurationItems,
            Tags = random.NextDouble() < 0.2 ? [component.ToLowerInvariant().Replace(' ', '-')] : [],
            Resolution = resolved ? new Resolution("solved", "Fixed remotely.", updatedAt, assignee?.Id ?? "agent-0000") : null,
            Problem = type == TicketType.Problem ? new ProblemRecord() : null,
            Change = type == TicketType.Change ? new ChangeRecord() : null,
            Channel = channel,
            CreatedAt = createdAt,
            CreatedBy = channel == "api" && assignee is not null ? assignee.Id : requester,
            UpdatedAt = updatedAt,
            ClosedAt = finished ? updatedAt : null,
        };

        // As TicketService.CreateAsync: the audit diff is taken of the ticket before the store sets revision 1.
        var audit = new AuditEvent
        {
            // Time-ordered like the app's audit ids (SequentialIds), as made at the ticket's creation.
            Id = Guid.CreateVersion7(createdAt).ToString("N"),
            TenantId = tenant,
            TicketId = ticket.Id,
            At = createdAt,
            Actor = ticket.CreatedBy,
            Channel = channel,
            Action = "created",
            Changes = TicketAudit.Diff(null, ticket),
        };
        return (ticket, audit);
    }
}
