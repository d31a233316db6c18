using Itsm.Functions.Approvals;

namespace Itsm.Functions.Tests.Approvals;

public class ApprovalRulesTests
{
    private static readonly DateTimeOffset At = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    private static ApprovalLevelState Level(ApprovalRule rule, int approvers, int? count = null, int? percent = null, bool rejectOnFirst = true) =>
        new ApprovalLevelState("L", rule, count, percent, rejectOnFirst, null, TimeoutOutcome.AutoReject, [], [])
        {
            Approvers = Enumerable.Range(1, approvers).Select(i => new ApproverSlot($"u{i}")).ToArray(),
        };

    private static ApprovalDecision[] Votes(string pattern) =>
        pattern.Select((c, i) => new ApprovalDecision(0, $"u{i + 1}", $"u{i + 1}", c == 'A' ? ApprovalVerdict.Approve : ApprovalVerdict.Reject, At, "api")).ToArray();

    [Theory]
    [InlineData(ApprovalRule.Any, 3, null, null, 1)]
    [InlineData(ApprovalRule.All, 3, null, null, 3)]
    [InlineData(ApprovalRule.Quorum, 5, 3, null, 3)]
    [InlineData(ApprovalRule.Quorum, 2, 3, null, 2)]
    [InlineData(ApprovalRule.Quorum, 5, null, 50, 3)]
    [InlineData(ApprovalRule.Quorum, 4, null, 50, 2)]
    [InlineData(ApprovalRule.Quorum, 3, null, 1, 1)]
    public void Needed_approvals_follow_the_rule_rounding_percentages_up_and_never_exceeding_the_approvers(ApprovalRule rule, int approvers, int? count, int? percent, int needed) =>
        Assert.Equal(needed, ApprovalRules.Needed(Level(rule, approvers, count, percent)));

    [Theory]
    [InlineData(ApprovalRule.Any, 3, true, "R", ApprovalVerdict.Reject)]
    [InlineData(ApprovalRule.Any, 3, false, "RR", null)]
    [InlineData(ApprovalRule.Any, 3, false, "RRR", ApprovalVerdict.Reject)]
    [InlineData(ApprovalRule.Any, 3, false, "RA", ApprovalVerdict.Approve)]
    [InlineData(ApprovalRule.All, 2, false, "AR", ApprovalVerdict.Reject)]
    [InlineData(ApprovalRule.All, 2, false, "A", null)]
    [InlineData(ApprovalRule.All, 2, true, "AA", ApprovalVerdict.Approve)]
    public void Tally_closes_a_level_only_when_the_outcome_is_certain(ApprovalRule rule, int approvers, bool rejectOnFirst, string votes, ApprovalVerdict? outcome) =>
        Assert.Equal(outcome, ApprovalRules.Tally(Level(rule, approvers, rejectOnFirst: rejectOnFirst), Votes(votes)));

    [Fact]
    public void Delegation_applies_inside_its_date_range_only_and_does_not_cascade()
    {
        var settings = new ApprovalSettings([], Delegations: [new Delegation("alice", "dan", At, At.AddDays(1)), new Delegation("dan", "erin", At, At.AddDays(1))]);
        var sources = new[] { new ApproverSource(ApproverKind.User, "alice") };
        Assert.Equal(new ApproverSlot("alice", "dan"), Assert.Single(ApprovalRules.ResolveApprovers(sources, settings, [], null, At)));
        Assert.Equal(new ApproverSlot("alice"), Assert.Single(ApprovalRules.ResolveApprovers(sources, settings, [], null, At.AddDays(1))));
    }

    [Fact]
    public void The_requesters_manager_is_an_approver_with_their_delegate_and_no_manager_resolves_to_nobody()
    {
        var settings = new ApprovalSettings([], Delegations: [new Delegation("mona", "max", At, At.AddDays(1))]);
        var sources = new[] { new ApproverSource(ApproverKind.RequesterManager), new ApproverSource(ApproverKind.User, "mona") };
        Assert.Equal(new ApproverSlot("mona", "max"), Assert.Single(ApprovalRules.ResolveApprovers(sources, settings, [], "mona", At)));
        Assert.Empty(ApprovalRules.ResolveApprovers([new ApproverSource(ApproverKind.RequesterManager)], settings, [], null, At));
    }

    [Fact]
    public async Task Without_the_directory_the_managers_come_from_the_approval_settings()
    {
        var settings = new ApprovalSettings([], Managers: new Dictionary<string, string> { ["rita"] = "mona" });
        var directory = new SettingsApproverDirectory();
        Assert.Equal("mona", await directory.ManagerOfAsync("contoso", "rita", settings, CancellationToken.None));
        Assert.Null(await directory.ManagerOfAsync("contoso", "rob", settings, CancellationToken.None));
    }
}
