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

public static class IntakeIds
{
    /// <summary>A stable 32-hex-digit id for a key: the same message always maps to the same ticket or comment id.</summary>
    public static string Hash(string key) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..32];
}
