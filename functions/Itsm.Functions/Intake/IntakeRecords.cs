using System.Security.Cryptography;
using System.Text;
using Itsm.Functions.Storage;

namespace Itsm.Functions.Intake;

/// <summary>
/// Thread keys of a tenant (<c>intakeThreads</c>, partition /tenantId): Internet message ids of mail received and
/// sent, mail conversation ids and alert keys, each pointing at its ticket. Point reads only.
/// </summary>
public sealed class IntakeThreads(IDocumentStore store)
{
    public static readonly ContainerDefinition Container = new("intakeThreads", ["/tenantId"], []);

    public static string MessageKey(string internetMessageId) => "m:" + MailThreading.NormaliseMessageId(internetMessageId);

    public static string ConversationKey(string conversationId) => "c:" + conversationId;

    public static string AlertKey(string correlation) => "a:" + correlation;

    public async Task<string?> FindAsync(string tenantId, string key, CancellationToken cancellationToken) =>
        (await store.ReadAsync<IntakeThread>(Container, new DocumentKey(tenantId, IdOf(key)), cancellationToken))?.Document.TicketId;

    public async Task RecordAsync(string tenantId, string key, string ticketId, CancellationToken cancellationToken)
    {
        var id = IdOf(key);
        await store.ExecuteBatchAsync(Container, tenantId, [new BatchOperation.Upsert(id, new IntakeThread(id, tenantId, key, ticketId))], cancellationToken);
    }

    private static string IdOf(string key) => IntakeIds.Hash(key);
}

public sealed record IntakeThread(string Id, string TenantId, string Key, string TicketId);

/// <summary>
/// Messages that will never succeed (malformed, oversized, from an unconfigured source, refused by ticket
/// validation), kept with the reason in <c>intakeDeadLetters</c> (partition /channel). The queue message is then
/// completed: the custom-handler Service Bus trigger cannot dead-letter explicitly, so this is our dead-letter queue.
/// </summary>
public sealed class IntakeDeadLetters(IDocumentStore store, TimeProvider time)
{
    public static readonly ContainerDefinition Container = new(
        "intakeDeadLetters",
        ["/channel"],
        [new("deadLetteredAt", "$.deadLetteredAt", FieldType.Instant)]);

    public async Task<IntakeDeadLetter> AddAsync(string channel, string body, string reason, string? messageId, CancellationToken cancellationToken)
    {
        var letter = new IntakeDeadLetter(IntakeIds.Hash(channel + "|" + body), channel, reason, body, messageId, time.GetUtcNow());
        await store.ExecuteBatchAsync(Container, channel, [new BatchOperation.Upsert(letter.Id, letter)], cancellationToken);
        return letter;
    }

    public async Task<IReadOnlyList<IntakeDeadLetter>> ListAsync(string channel, CancellationToken cancellationToken)
    {
        var page = await store.QueryAsync<IntakeDeadLetter>(Container, new DocumentQuery(channel, [], new QuerySort("deadLetteredAt", Descending: false), 500), cancellationToken);
        return page.Items.Select(i => i.Document).ToArray();
    }
}

public sealed record IntakeDeadLetter(string Id, string Channel, string Reason, string Body, string? MessageId, DateTimeOffset DeadLetteredAt);

public static class IntakeIds
{
    /// <summary>A stable 32-hex-digit id for a key: the same message always maps to the same ticket or comment id.</summary>
    public static string Hash(string key) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..32];
}
