namespace Itsm.Functions.Approvals;

/// <summary>Why an answer was refused: the HTTP status, a title and a sentence for the approver.</summary>
public sealed record AnswerRefusal(int Status, string Title, string Detail);

/// <summary>A prompt the engine wants sent: to whom, for which approver slot, a first prompt or a reminder.</summary>
public sealed record PromptRequest(int Level, string Recipient, string Approver, string Kind);

/// <summary>What <see cref="ApprovalRules.Advance"/> decided: the next record, the prompts to send, and when to wake next.</summary>
public sealed record ApprovalStep(ApprovalRecord Record, IReadOnlyList<PromptRequest> Prompts, DateTimeOffset? WakeAt);

/// <summary>
/// The approval engine's rules, pure: resolving approvers, counting votes, accepting or refusing an answer, and
/// moving an approval on at an instant (open a level, remind, time out, close, finish). The orchestration and the
/// decision API call these; they never decide anything themselves.
/// </summary>
public static class ApprovalRules
{
    /// <summary>The distinct approvers of a level and their active delegates (delegations do not cascade).</summary>
    public static IReadOnlyList<ApproverSlot> ResolveApprovers(
        IReadOnlyList<ApproverSource> sources,
        ApprovalSettings settings,
        IReadOnlyList<string> ciOwners,
        string? requesterManager,
        DateTimeOffset at)
    {
        var users = new List<string>();
        foreach (var source in sources)
        {
            IEnumerable<string> found = source.Kind switch
            {
                ApproverKind.User => [source.Id!],
                ApproverKind.Group => settings.GroupMembers(source.Id!),
                ApproverKind.CiOwner => ciOwners,
                ApproverKind.RequesterManager => requesterManager is not null ? [requesterManager] : [],
                _ => [],
            };
            users.AddRange(found.Where(u => !string.IsNullOrWhiteSpace(u)));
        }

        return users.Distinct(StringComparer.Ordinal).Select(u => new ApproverSlot(u, settings.DelegateOf(u, at))).ToArray();
    }

    /// <summary>How many approvals close a level approved.</summary>
    public static int Needed(ApprovalLevelState level)
    {
        var count = level.Approvers.Count;
        return level.Rule switch
        {
            ApprovalRule.Any => Math.Min(1, count),
            ApprovalRule.All => count,
            _ => Math.Min(count, level.QuorumCount ?? (int)Math.Ceiling(count * (level.QuorumPercent ?? 100) / 100.0)),
        };
    }

    /// <summary>The level's outcome from its votes so far, or null while it is still open.</summary>
    public static ApprovalVerdict? Tally(ApprovalLevelState level, IEnumerable<ApprovalDecision> votes)
    {
        var list = votes.ToList();
        var approvals = list.Count(v => v.Verdict == ApprovalVerdict.Approve);
        var rejections = list.Count(v => v.Verdict == ApprovalVerdict.Reject);
        var needed = Needed(level);
        if (needed > 0 && approvals >= needed)
        {
            return ApprovalVerdict.Approve;
        }

        if (rejections > 0 && level.RejectOnFirstRejection)
        {
            return ApprovalVerdict.Reject;
        }

        // Counting votes: rejected once the approvals still possible cannot reach the quorum.
        return level.Approvers.Count - rejections < needed ? ApprovalVerdict.Reject : null;
    }

    /// <summary>
    /// Whether <paramref name="user"/> may answer now at <paramref name="level"/> (the decision point of a link, or the
    /// current level), and for which approver. A refusal changes nothing and says why.
    /// </summary>
    public static (ApproverSlot? Slot, AnswerRefusal? Refusal) CheckAnswer(ApprovalRecord record, string user, int? level, string? linkId)
    {
        if (record.IsFinished)
        {
            return (null, new AnswerRefusal(409, "The approval is finished.", $"{record.SubjectNumber} was already {record.State.ToString().ToLowerInvariant()}; your answer changes nothing."));
        }

        if (linkId is not null && record.UsedLinks.Contains(linkId))
        {
            return (null, new AnswerRefusal(409, "This link was already used.", "Each approval link decides once; your earlier answer stands."));
        }

        if (level is { } asked && asked != record.CurrentLevel)
        {
            var name = asked >= 0 && asked < record.Levels.Count ? $"The level '{record.Levels[asked].Name}'" : "That level";
            return (null, new AnswerRefusal(409, "That decision point is closed.", $"{name} of {record.SubjectNumber} closed before your answer arrived; your answer changes nothing."));
        }

        var current = record.Levels[record.CurrentLevel];
        if (record.State == ApprovalState.Blocked || !current.IsOpen)
        {
            return (null, new AnswerRefusal(409, "The approval is not open for answers.", record.State == ApprovalState.Blocked
                ? $"{record.SubjectNumber} is blocked by conflicts: {record.OutcomeReason}"
                : "The current level is not open yet."));
        }

        var slot = current.Approvers.FirstOrDefault(a => a.UserId == user)
            ?? current.Approvers.FirstOrDefault(a => a.Delegate == user && !Voted(record, a.UserId));
        if (slot is null)
        {
            return (null, new AnswerRefusal(403, "You are not an approver of this level.", $"'{user}' is not an approver (or an active delegate of one) of level '{current.Name}' of {record.SubjectNumber}; your answer changes nothing."));
        }

        if (record.Decisions.FirstOrDefault(d => d.Level == record.CurrentLevel && d.Approver == slot.UserId) is { } earlier)
        {
            return (null, new AnswerRefusal(409, "Already answered.", $"{earlier.AnsweredBy} already answered {earlier.Verdict} for {slot.UserId} at {earlier.At:O}; a second answer changes nothing."));
        }

        return (slot, null);
    }

    /// <summary>Ends an approval whose change left Authorize by other means; nothing more is asked.</summary>
    public static ApprovalRecord Withdraw(ApprovalRecord record, string changeState, DateTimeOffset now) =>
        record.IsFinished
            ? record
            : record with { State = ApprovalState.Withdrawn, CompletedAt = now, OutcomeReason = $"The change left Authorize (now {changeState}) before the approval finished." };

    /// <summary>Records an answer already checked with <see cref="CheckAnswer"/>.</summary>
    public static ApprovalRecord Record(ApprovalRecord record, ApproverSlot slot, string user, ApprovalVerdict verdict, string channel, string? comment, string? linkId, DateTimeOffset at) =>
        record with
        {
            Decisions = [.. record.Decisions, new ApprovalDecision(record.CurrentLevel, slot.UserId, user, verdict, at, channel, comment, user == slot.UserId ? null : slot.UserId)],
            UsedLinks = linkId is null ? record.UsedLinks : [.. record.UsedLinks, linkId],
        };

    /// <summary>
    /// Closes the current level at <paramref name="now"/> when its votes now decide it (approving moves to the next
    /// level or finishes, rejecting finishes), exactly as <see cref="Advance"/> would at that instant. Run with each
    /// recorded answer, so the record (and the page the approver sees) shows the decision at once; opening the next
    /// level, with its prompts, stays with the orchestration.
    /// </summary>
    public static ApprovalRecord Settle(ApprovalRecord record, DateTimeOffset now)
    {
        if (record.IsFinished || record.State == ApprovalState.Blocked)
        {
            return record;
        }

        var index = record.CurrentLevel;
        var level = record.Levels[index];
        if (!level.IsOpen || Tally(level, record.Decisions.Where(d => d.Level == index)) is not { } verdict)
        {
            return record;
        }

        return Close(record, index, verdict, now, verdict == ApprovalVerdict.Approve ? "The level's rule was met." : "The level's rule can no longer be met, or an approver rejected.");
    }

    /// <summary>
    /// Moves the approval on at <paramref name="now"/>: opens the current level (resolving its approvers with
    /// <paramref name="resolve"/>), closes it when its votes decide it, reminds quiet approvers, applies the timeout
    /// outcome, and opens the next level or finishes. Running it twice at the same instant changes nothing the second time.
    /// </summary>
    /// <param name="minuteLength">How long a minute of the policy's timeouts and reminders lasts (<c>Itsm:Policies:MinuteLength</c>; one minute by default).</param>
    public static ApprovalStep Advance(ApprovalRecord record, DateTimeOffset now, Func<ApprovalLevelState, IReadOnlyList<ApproverSlot>> resolve, TimeSpan? minuteLength = null)
    {
        var minute = minuteLength ?? TimeSpan.FromMinutes(1);
        var prompts = new List<PromptRequest>();
        for (var guard = 0; guard < record.Levels.Count * 3 + 3; guard++)
        {
            if (record.IsFinished || record.State == ApprovalState.Blocked)
            {
                return new ApprovalStep(record, prompts, null);
            }

            var index = record.CurrentLevel;
            var level = record.Levels[index];
            if (level.OpenedAt is null)
            {
                var approvers = resolve(level);
                level = level with
                {
                    Approvers = approvers,
                    OpenedAt = now,
                    Deadline = level.TimeoutMinutes is { } minutes ? now + minute * minutes : null,
                };
                prompts.AddRange(approvers.Select(a => new PromptRequest(index, a.Delegate ?? a.UserId, a.UserId, "prompt")));
                record = WithLevel(record, index, level);
                if (approvers.Count == 0)
                {
                    // An empty group or unknown approvers: the policy must not wait forever.
                    record = Close(record, index, level.Substitutes.Count > 0 && level.OnTimeout == TimeoutOutcome.Escalate ? null : ApprovalVerdict.Reject, now,
                        $"Level '{level.Name}' has no approvers (empty group or unknown users).");
                    if (record.Levels[index].ClosedAt is null)
                    {
                        record = Escalate(record, index, now, prompts, minute);
                    }

                    continue;
                }
            }

            var verdict = Tally(level, record.Decisions.Where(d => d.Level == index));
            if (verdict is not null)
            {
                record = Close(record, index, verdict, now, verdict == ApprovalVerdict.Approve ? "The level's rule was met." : "The level's rule can no longer be met, or an approver rejected.");
                continue;
            }

            if (level.Deadline is { } deadline && now >= deadline)
            {
                switch (level.OnTimeout)
                {
                    case TimeoutOutcome.Escalate when !level.Escalated:
                        record = Escalate(record, index, now, prompts, minute);
                        continue;
                    case TimeoutOutcome.AutoApprove when record.Risk.Level == RiskLevel.Low:
                        record = Close(record, index, ApprovalVerdict.Approve, now, $"No decision within {level.TimeoutMinutes} minutes: approved automatically (low risk).");
                        continue;
                    case TimeoutOutcome.AutoApprove:
                        record = Close(record, index, ApprovalVerdict.Reject, now, $"No decision within {level.TimeoutMinutes} minutes: auto-approval applies only to low risk, and this change is {record.Risk.Level} risk, so it is rejected.");
                        continue;
                    default:
                        record = Close(record, index, ApprovalVerdict.Reject, now, $"No decision within {level.TimeoutMinutes} minutes{(level.Escalated ? " (after escalating to the substitutes)" : "")}: rejected automatically.");
                        continue;
                }
            }

            DateTimeOffset? reminderAt = null;
            if (record.ReminderAfterMinutes is { } quiet)
            {
                var lastActivity = new[] { level.OpenedAt, level.LastReminderAt, record.Decisions.Where(d => d.Level == index).Select(d => (DateTimeOffset?)d.At).Max() }.Max()!.Value;
                reminderAt = lastActivity + minute * quiet;
                if (now >= reminderAt)
                {
                    var waiting = level.Approvers.Where(a => !Voted(record, a.UserId, index)).ToArray();
                    prompts.AddRange(waiting.Select(a => new PromptRequest(index, a.Delegate ?? a.UserId, a.UserId, "reminder")));
                    record = WithLevel(record, index, level with { LastReminderAt = now });
                    reminderAt = now + minute * quiet;
                }
            }

            var wake = new[] { level.Deadline, reminderAt }.Where(t => t is not null).Min();
            return new ApprovalStep(record, prompts, wake);
        }

        throw new InvalidOperationException($"Approval {record.Id} did not settle.");
    }

    private static bool Voted(ApprovalRecord record, string approver, int? level = null) =>
        record.Decisions.Any(d => d.Level == (level ?? record.CurrentLevel) && d.Approver == approver);

    private static ApprovalRecord Escalate(ApprovalRecord record, int index, DateTimeOffset now, List<PromptRequest> prompts, TimeSpan minute)
    {
        var level = record.Levels[index];
        var added = level.Substitutes.Where(s => level.Approvers.All(a => a.UserId != s)).Select(s => new ApproverSlot(s, null, Substitute: true)).ToArray();
        prompts.AddRange(added.Select(a => new PromptRequest(index, a.UserId, a.UserId, "escalation")));
        return WithLevel(record, index, level with
        {
            Approvers = [.. level.Approvers, .. added],
            Escalated = true,
            Deadline = now + minute * (level.TimeoutMinutes ?? 60),
        });
    }

    private static ApprovalRecord Close(ApprovalRecord record, int index, ApprovalVerdict? verdict, DateTimeOffset now, string reason)
    {
        if (verdict is null)
        {
            return record;
        }

        record = WithLevel(record, index, record.Levels[index] with { ClosedAt = now, Outcome = verdict, Reason = reason });
        if (verdict == ApprovalVerdict.Reject)
        {
            return record with { State = ApprovalState.Rejected, CompletedAt = now, OutcomeReason = $"Level '{record.Levels[index].Name}': {reason}" };
        }

        return index + 1 < record.Levels.Count
            ? record with { CurrentLevel = index + 1 }
            : record with { State = ApprovalState.Approved, CompletedAt = now, OutcomeReason = "Every level approved." };
    }

    private static ApprovalRecord WithLevel(ApprovalRecord record, int index, ApprovalLevelState level) =>
        record with { Levels = record.Levels.Select((l, i) => i == index ? level : l).ToArray() };
}
