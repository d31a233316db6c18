using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Itsm.Functions.Approvals;
using Itsm.Functions.Hosting;
using Itsm.Functions.Intake;
using Itsm.Functions.Notifications;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Surveys;

/// <summary>What a survey link carries: tenant, ticket (= survey id), the requester it was sent to, expiry and the link's id.</summary>
public sealed record SurveyLinkClaims(
    [property: JsonPropertyName("tid")] string TenantId,
    [property: JsonPropertyName("sid")] string SurveyId,
    [property: JsonPropertyName("usr")] string Recipient,
    [property: JsonPropertyName("exp")] long ExpiresAt,
    [property: JsonPropertyName("jti")] string LinkId);

/// <summary>
/// Survey links: signed with the approval links' key through <see cref="ApprovalLinks.Sign"/> for the purpose
/// "survey", so a survey link is never valid as an approval link or the other way round.
/// </summary>
public sealed class SurveyLinks(ApprovalLinks links)
{
    public const string Purpose = "survey";
    public const string PagePath = "/api/survey-page";

    public string Create(Survey survey) =>
        links.Sign(Purpose, JsonSerializer.SerializeToUtf8Bytes(new SurveyLinkClaims(survey.TenantId, survey.Id, survey.Requester.Id, survey.ExpiresAt.ToUnixTimeSeconds(), survey.LinkId)));

    public string Url(Survey survey) => $"{links.BaseUrl}{PagePath}?t={Uri.EscapeDataString(Create(survey))}";

    /// <summary>The claims of a genuine survey link (expired or not), or null when it is malformed or forged.</summary>
    public SurveyLinkClaims? Open(string? token)
    {
        if (links.Open(Purpose, token) is not { } json)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<SurveyLinkClaims>(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>The <c>surveys</c> container (partition /tenantId): one survey per ticket and the tenant's settings.</summary>
public sealed class SurveyStore(IDocumentStore store)
{
    public static readonly ContainerDefinition Surveys = new(
        "surveys",
        ["/tenantId"],
        [
            new("docType", "$.docType", FieldType.Text),
            new("state", "$.state", FieldType.Text),
            new("ticketType", "$.ticketType", FieldType.Text),
            new("agent", "$.agent.id", FieldType.Text),
            new("group", "$.group", FieldType.Text),
            new("service", "$.service", FieldType.Text),
            new("invitedAt", "$.invitedAt", FieldType.Instant),
            new("remindAt", "$.remindAt", FieldType.Instant),
            new("expiresAt", "$.expiresAt", FieldType.Instant),
            new("answeredAt", "$.answeredAt", FieldType.Instant),
        ]);

    public IDocumentStore Documents => store;

    public async Task<SurveySettings> SettingsAsync(string tenantId, CancellationToken cancellationToken) =>
        (await store.ReadAsync<SurveySettings>(Surveys, new DocumentKey(tenantId, SurveySettings.DocumentId), cancellationToken))?.Document
        ?? new SurveySettings { TenantId = tenantId };

    public Task PutSettingsAsync(SurveySettings settings, CancellationToken cancellationToken) =>
        store.ExecuteBatchAsync(Surveys, settings.TenantId, [new BatchOperation.Upsert(SurveySettings.DocumentId, settings with { Id = SurveySettings.DocumentId })], cancellationToken);

    public async Task<StoredDocument<Survey>?> ReadAsync(string tenantId, string ticketId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(ticketId) || ticketId == SurveySettings.DocumentId || ticketId.Length > 64)
        {
            return null;
        }

        var stored = await store.ReadAsync<Survey>(Surveys, new DocumentKey(tenantId, ticketId), cancellationToken);
        return stored?.Document.DocType == Survey.DocumentType ? stored : null;
    }

    public Task<DocumentPage<Survey>> QueryAsync(string? tenantId, IReadOnlyList<QueryFilter> filters, QuerySort sort, int pageSize, string? continuation, CancellationToken cancellationToken) =>
        store.QueryAsync<Survey>(Surveys, new DocumentQuery(tenantId, [new QueryFilter("docType", FilterOperator.Equals, Survey.DocumentType), .. filters], sort, pageSize, continuation), cancellationToken);
}

/// <summary>
/// Resolving a ticket leaves a "survey" follow-up in the resolve's own transaction (the transactional outbox); carrying
/// it out creates the survey (one per ticket, if the tenant's settings invite for this ticket type) and puts the
/// invitation with its signed link into the notification outbox. Both steps are idempotent.
/// </summary>
public sealed class SurveyInvitations(SurveyStore store, SurveyLinks links, NotificationOutbox outbox, TimeProvider time) : ITicketFollowUpSource, ITicketFollowUpHandler
{
    public const string FollowUpKind = "survey";

    public string Kind => FollowUpKind;

    public IEnumerable<TicketFollowUp> FollowUpsFor(TicketWriteContext context, Ticket after, IReadOnlyList<ITicketRecord> appended)
    {
        if (after.State != TicketState.Resolved || context.Before is null || context.Before.State == TicketState.Resolved)
        {
            yield break;
        }

        var request = new SurveyRequest(after.Id, after.Number, after.Type, after.Title, after.Requester, after.Assignee, after.AssignmentGroup, after.AffectedService, after.UpdatedAt)
        {
            Priority = after.Priority,
            Category = after.Category,
        };
        yield return TicketFollowUp.Create(FollowUpKind, $"survey:{after.Revision}", after, request, after.UpdatedAt);
    }

    public async Task HandleAsync(TicketFollowUp followUp, CancellationToken cancellationToken)
    {
        var request = followUp.Read<SurveyRequest>();
        var settings = await store.SettingsAsync(followUp.TenantId, cancellationToken);
        if (!SurveyRules.Invites(settings, request))
        {
            return;
        }

        var survey = SurveyRules.Invite(followUp.TenantId, request, settings, IntakeIds.Hash($"{followUp.TenantId}|{request.TicketId}|survey"), time.GetUtcNow());
        try
        {
            await store.Documents.CreateAsync(SurveyStore.Surveys, new DocumentKey(survey.TenantId, survey.Id), survey, cancellationToken);
        }
        catch (DocumentConflictException)
        {
            // One survey per ticket: a ticket resolved again is not asked again. An invitation a crash kept from the
            // outbox is published below (the outbox ignores it when it is already there).
            survey = (await store.ReadAsync(survey.TenantId, survey.Id, cancellationToken))!.Document;
            if (survey.State != SurveyState.Invited)
            {
                return;
            }
        }

        await PublishAsync(survey, NotificationEventKinds.SurveyInvited, cancellationToken);
    }

    public Task PublishAsync(Survey survey, string kind, CancellationToken cancellationToken) =>
        outbox.PublishAsync(
            new NotificationEvent(kind, survey.TenantId, $"{kind}:{survey.Id}")
            {
                TicketId = survey.Id,
                TicketNumber = survey.TicketNumber,
                Title = survey.Title,
                Link = links.Url(survey),
                Recipients = [new NotificationRecipient(survey.Requester.Id, survey.Requester.Email ?? (survey.Requester.Id.Contains('@', StringComparison.Ordinal) ? survey.Requester.Id : null), survey.Requester.Name)],
                Values = new Dictionary<string, string> { ["survey.expiresAt"] = survey.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) },
            },
            cancellationToken);
}

/// <summary>The hourly sweep: reminds once when a survey's reminder is due, and marks unanswered surveys past their expiry Expired.</summary>
public sealed class SurveyReminders(SurveyStore store, SurveyInvitations invitations, TimeProvider time)
{
    /// <summary>Returns (reminded, expired).</summary>
    public async Task<(int Reminded, int Expired)> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        int reminded = 0, expired = 0;
        foreach (var (field, remind) in new[] { ("expiresAt", false), ("remindAt", true) })
        {
            string? continuation = null;
            do
            {
                var page = await store.QueryAsync(
                    null,
                    [new QueryFilter("state", FilterOperator.Equals, nameof(SurveyState.Invited)), new QueryFilter(field, FilterOperator.LessThanOrEqual, now)],
                    new QuerySort(field, Descending: false),
                    200,
                    continuation,
                    cancellationToken);
                foreach (var item in page.Items)
                {
                    var survey = item.Document;
                    if (remind)
                    {
                        // Published first, then cleared: a crash in between publishes again, which the outbox ignores.
                        await invitations.PublishAsync(survey, NotificationEventKinds.SurveyReminder, cancellationToken);
                    }

                    try
                    {
                        await store.Documents.ReplaceAsync(SurveyStore.Surveys, item.Key, remind ? survey with { RemindAt = null } : survey with { State = SurveyState.Expired, RemindAt = null }, item.ETag, cancellationToken);
                        reminded += remind ? 1 : 0;
                        expired += remind ? 0 : 1;
                    }
                    catch (PreconditionFailedException)
                    {
                        // Answered meanwhile: nothing to do.
                    }
                }

                continuation = page.ContinuationToken;
            }
            while (continuation is not null);
        }

        return (reminded, expired);
    }
}
