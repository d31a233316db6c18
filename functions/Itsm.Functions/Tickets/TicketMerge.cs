namespace Itsm.Functions.Tickets;

/// <summary>
/// Merging a duplicate into the ticket it duplicates: the duplicate is closed with resolution
/// "Duplicate" and a duplicate-of link; its requester and watchers become watchers of the survivor.
/// </summary>
public static class TicketMerge
{
    public const string DuplicateResolutionCode = "Duplicate";

    public static RuleOutcome<(Ticket Duplicate, Ticket Survivor)> Merge(Ticket duplicate, Ticket survivor, string actor, DateTimeOffset now)
    {
        if (duplicate.TenantId != survivor.TenantId)
        {
            throw new InvalidOperationException("Tickets of different tenants can never be merged.");
        }

        if (duplicate.Id == survivor.Id)
        {
            return RuleOutcome<(Ticket, Ticket)>.NotAllowed("A ticket cannot be merged into itself.");
        }

        if (duplicate.Type != survivor.Type || duplicate.Type is not (TicketType.Incident or TicketType.ServiceRequest))
        {
            return RuleOutcome<(Ticket, Ticket)>.NotAllowed("Only incidents into incidents and requests into requests can be merged.");
        }

        if (!duplicate.IsOpen)
        {
            return RuleOutcome<(Ticket, Ticket)>.NotAllowed($"{duplicate.Number} is {duplicate.State} and cannot be merged.");
        }

        if (survivor.State is TicketState.Closed or TicketState.Cancelled)
        {
            return RuleOutcome<(Ticket, Ticket)>.NotAllowed($"{survivor.Number} is {survivor.State}; merge into an open ticket.");
        }

        if (survivor.Links.Any(l => l.Kind == TicketLinkKind.DuplicateOf))
        {
            return RuleOutcome<(Ticket, Ticket)>.NotAllowed($"{survivor.Number} is itself a duplicate; merge into the ticket it duplicates.");
        }

        var closed = duplicate with
        {
            State = TicketState.Closed,
            HoldReason = null,
            Resolution = new Resolution(DuplicateResolutionCode, $"Duplicate of {survivor.Number}.", now, actor),
            Links = [.. duplicate.Links.Where(l => l.TicketId != survivor.Id), new TicketLink(TicketLinkKind.DuplicateOf, survivor.Id, survivor.Number)],
            ClosedAt = now,
            UpdatedAt = now,
        };
        var watchers = survivor.Watchers
            .Concat(duplicate.Watchers)
            .Append(duplicate.Requester.Id)
            .Where(w => w != survivor.Requester.Id)
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        var merged = survivor with { Watchers = watchers, UpdatedAt = now };
        return RuleOutcome<(Ticket, Ticket)>.Ok((closed, merged));
    }
}

/// <summary>What the survivor of a merge gains: the duplicate's people as watchers, recorded as its "merged-in" event.</summary>
public sealed record MergeInto(string SurvivorId, string DuplicateId, string DuplicateNumber, IReadOnlyList<string> Watchers, string ActorId, string? ActorName);

/// <summary>
/// The survivor's half of a merge, carried out from the follow-up the duplicate's write left: adds the watchers and the
/// "merged-in" audit event in one write of the survivor. The event's id is fixed per duplicate, so a second run finds
/// it written and changes nothing; a survivor edited meanwhile is read again.
/// </summary>
public sealed class TicketMergeCompletion(TicketStore store, TimeProvider time, ILogger<TicketMergeCompletion> logger) : ITicketFollowUpHandler
{
    public const string FollowUpKind = "merge-into";
    private const int MaxAttempts = 10;

    public string Kind => FollowUpKind;

    public static TicketFollowUp FollowUp(Ticket closedDuplicate, Ticket mergedSurvivor, Security.CallerPrincipal actor, DateTimeOffset at) =>
        TicketFollowUp.Create(
            FollowUpKind,
            $"{FollowUpKind}:{mergedSurvivor.Id}",
            closedDuplicate,
            new MergeInto(mergedSurvivor.Id, closedDuplicate.Id, closedDuplicate.Number, mergedSurvivor.Watchers, actor.UserId, actor.Name),
            at);

    public async Task HandleAsync(TicketFollowUp followUp, CancellationToken cancellationToken)
    {
        var merge = followUp.Read<MergeInto>();
        var actor = new Security.CallerPrincipal(followUp.TenantId, merge.ActorId, merge.ActorName, null, new HashSet<string>());
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var survivor = await store.ReadAsync(followUp.TenantId, merge.SurvivorId, cancellationToken);
            if (survivor is null)
            {
                logger.LogWarning("Ticket {SurvivorId}, which {Duplicate} was merged into, no longer exists.", merge.SurvivorId, merge.DuplicateNumber);
                return;
            }

            var current = survivor.Document;
            var watchers = current.Watchers.Concat(merge.Watchers).Where(w => w != current.Requester.Id).Distinct(StringComparer.Ordinal).ToArray();
            var now = time.GetUtcNow();
            var merged = current with { Watchers = watchers, UpdatedAt = now > current.UpdatedAt ? now : current.UpdatedAt };
            var audit = new AuditEvent
            {
                Id = $"merged-in:{merge.DuplicateId}",
                TenantId = current.TenantId,
                TicketId = current.Id,
                At = merged.UpdatedAt,
                Actor = merge.ActorId,
                Channel = "api",
                Action = "merged-in",
                Changes = [.. TicketAudit.Diff(current, merged), new FieldChange("duplicate", null, System.Text.Json.JsonSerializer.SerializeToElement(merge.DuplicateNumber))],
            };
            try
            {
                await store.UpdateAsync(merged, survivor.ETag, [audit], cancellationToken, new TicketWriteContext(current, actor));
                return;
            }
            catch (Storage.DocumentConflictException)
            {
                // Its "merged-in" event is there: this half was carried out before.
                return;
            }
            catch (Storage.PreconditionFailedException)
            {
                // The survivor was written meanwhile: apply to the fresh version.
            }
        }

        throw new Storage.DocumentStoreException($"Could not add the merge of {merge.DuplicateNumber} to ticket {merge.SurvivorId}: it keeps changing.");
    }
}
