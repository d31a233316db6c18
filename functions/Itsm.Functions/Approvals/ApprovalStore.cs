using Itsm.Functions.Changes;
using Itsm.Functions.Storage;

namespace Itsm.Functions.Approvals;

/// <summary>A tenant-level settings document of the approvals container (approval settings, change settings, risk answers).</summary>
public sealed record SettingsDocument<T>(string Id, string TenantId, string DocType, T Value, DateTimeOffset UpdatedAt, string UpdatedBy);

/// <summary>
/// The <c>approvals</c> container, partitioned by tenant: approval records, the tenant's approval and change
/// settings, and the risk questionnaire answers of each change. Creating or replacing an approval record also writes
/// its event for the feed (<see cref="Events.PendingEvent"/>) in the same transaction; the sequencer places it right after.
/// </summary>
public sealed class ApprovalStore(IDocumentStore store, Events.EventSequencer? events = null)
{
    public static readonly ContainerDefinition Approvals = new(
        "approvals",
        ["/tenantId"],
        [
            new("docType", "$.docType", FieldType.Text),
            new("subjectId", "$.subjectId", FieldType.Text),
            new("createdAt", "$.createdAt", FieldType.Instant),
        ]);

    public const string ApprovalSettingsId = "approval-settings";
    public const string ChangeSettingsId = "change-settings";

    public static string RiskAnswersId(string ticketId) => "risk-" + ticketId;

    public Task<StoredDocument<ApprovalRecord>?> ReadAsync(string tenantId, string approvalId, CancellationToken cancellationToken) =>
        store.ReadAsync<ApprovalRecord>(Approvals, new DocumentKey(tenantId, approvalId), cancellationToken);

    public Task<StoredDocument<ApprovalRecord>> CreateAsync(ApprovalRecord record, CancellationToken cancellationToken) =>
        WriteAsync(record, new BatchOperation.Create(record.Id, record), "approval.created", cancellationToken);

    public Task<StoredDocument<ApprovalRecord>> ReplaceAsync(ApprovalRecord record, string etag, CancellationToken cancellationToken) =>
        WriteAsync(record, new BatchOperation.Replace(record.Id, record, etag), "approval.updated", cancellationToken);

    /// <summary>The record and its event in one transaction (the tenant's partition), then the event's placing in the log.</summary>
    private async Task<StoredDocument<ApprovalRecord>> WriteAsync(ApprovalRecord record, BatchOperation write, string eventType, CancellationToken cancellationToken)
    {
        var key = new DocumentKey(record.TenantId, record.Id);
        var at = record.CompletedAt ?? (record.Decisions.Count > 0 ? record.Decisions[^1].At : (DateTimeOffset?)null) ?? record.CreatedAt;
        var feedEvent = Events.EventSequencer.NewEvent(record.TenantId, eventType, new Events.EventSubject("approval", record.Id, record.SubjectNumber), record.SubjectId, at, record);
        var etags = await store.ExecuteBatchAsync(Approvals, record.TenantId, [write, Events.EventSequencer.PendingFor(feedEvent, at.UtcTicks)], cancellationToken);
        if (events is not null)
        {
            await events.TryRelayAsync(Approvals, record.TenantId, cancellationToken);
        }

        return new StoredDocument<ApprovalRecord>(key, record, etags[0]);
    }

    public async Task<IReadOnlyList<ApprovalRecord>> ForSubjectAsync(string tenantId, string subjectId, CancellationToken cancellationToken)
    {
        var page = await store.QueryAsync<ApprovalRecord>(
            Approvals,
            new DocumentQuery(tenantId, [new QueryFilter("docType", FilterOperator.Equals, ApprovalRecord.DocumentType), new QueryFilter("subjectId", FilterOperator.Equals, subjectId)], new QuerySort("createdAt", false), 100),
            cancellationToken);
        return page.Items.Select(i => i.Document).ToArray();
    }

    /// <summary>The approval settings in force: the tenant's own once stored, else the product's defaults as they act (<see cref="ApprovalDefaults.InForce"/>).</summary>
    public async Task<ApprovalSettings> ApprovalSettingsAsync(string tenantId, CancellationToken cancellationToken) =>
        await StoredApprovalSettingsAsync(tenantId, cancellationToken) ?? ApprovalDefaults.InForce;

    /// <summary>The tenant's own approval settings; null while it follows the defaults.</summary>
    public async Task<ApprovalSettings?> StoredApprovalSettingsAsync(string tenantId, CancellationToken cancellationToken) =>
        (await store.ReadAsync<SettingsDocument<ApprovalSettings>>(Approvals, new DocumentKey(tenantId, ApprovalSettingsId), cancellationToken))?.Document.Value;

    public async Task<ChangeSettings> ChangeSettingsAsync(string tenantId, CancellationToken cancellationToken) =>
        (await store.ReadAsync<SettingsDocument<ChangeSettings>>(Approvals, new DocumentKey(tenantId, ChangeSettingsId), cancellationToken))?.Document.Value ?? ChangeSettings.Empty;

    public async Task<RiskQuestionnaire?> RiskAnswersAsync(string tenantId, string ticketId, CancellationToken cancellationToken) =>
        (await store.ReadAsync<SettingsDocument<RiskQuestionnaire>>(Approvals, new DocumentKey(tenantId, RiskAnswersId(ticketId)), cancellationToken))?.Document.Value;

    /// <summary>Creates or replaces a settings document (last writer wins: these are whole-document admin edits).</summary>
    public Task SaveAsync<T>(string tenantId, string id, string docType, T value, DateTimeOffset at, string by, CancellationToken cancellationToken) =>
        store.ExecuteBatchAsync(Approvals, tenantId, [new BatchOperation.Upsert(id, new SettingsDocument<T>(id, tenantId, docType, value, at, by))], cancellationToken);
}
