namespace Itsm.Functions.Approvals;

/// <summary>
/// What a tenant starts with before its admins store approval settings of their own: a change advisory board for
/// normal changes (one level, any member of the group <c>cab</c> approves, a reminder after a day, rejected after three
/// days without an answer). The group starts empty: add its members, or replace the whole settings, through
/// <c>PUT /api/manage/approvals/settings</c> (<c>GET</c> shows these defaults until then). Until the group has members
/// the board cannot meet, so normal changes are authorised by hand, as in a tenant without a policy.
/// </summary>
public static class ApprovalDefaults
{
    public const string CabGroup = "cab";

    public static readonly ApprovalSettings Settings = new(
        [
            new ApprovalPolicy(
                "cab",
                "Change advisory board (normal changes)",
                [new ApprovalLevelDefinition("CAB", [new ApproverSource(ApproverKind.Group, CabGroup)], ApprovalRule.Any, TimeoutMinutes: 3 * 24 * 60, OnTimeout: TimeoutOutcome.AutoReject)],
                ChangeTypes: [Tickets.ChangeType.Normal],
                ReminderAfterMinutes: 24 * 60),
        ],
        Groups: new Dictionary<string, IReadOnlyList<string>> { [CabGroup] = [] });

    /// <summary>The defaults as they act: without CAB members the board's policy does not apply yet.</summary>
    public static ApprovalSettings InForce => Settings.GroupMembers(CabGroup).Count > 0 ? Settings : Settings with { Policies = [] };
}
