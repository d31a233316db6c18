using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Itsm.Functions.Tests.Approvals;

/// <summary>
/// The approval orchestration end to end through the standalone app: a tenant's policy, a change submitted through
/// the tickets API (it enters Authorize, which starts the approval), answers through the decisions API, and durable
/// timers (reminders, timeouts) fired by moving the fake clock.
/// </summary>
public class ApprovalOrchestrationTests
{
    private static string Policy(string levels, string extra = "") => $$"""
        {"policies":[{"id":"cab","name":"Change advisory board","changeTypes":["Normal","Emergency"],{{extra}}"levels":[{{levels}}]}],
         "groups":{"cab":["carol","dave"],"empty":[]},
         "delegations":[{"approver":"alice","delegate":"dan","from":"2026-03-01T00:00:00Z","to":"2026-03-10T00:00:00Z"},
                        {"approver":"dan","delegate":"erin","from":"2026-03-01T00:00:00Z","to":"2026-03-10T00:00:00Z"}]}
        """;

    private static string Level(string approvers, string rule = "Any", string extra = "") =>
        $$"""{"name":"Level","approvers":[{{approvers}}],"rule":"{{rule}}"{{extra}}}""";

    private const string Alice = """{"kind":"User","id":"alice"}""";
    private const string Bob = """{"kind":"User","id":"bob"}""";
    private const string Carol = """{"kind":"User","id":"carol"}""";
    private const string Cab = """{"kind":"Group","id":"cab"}""";

    [Fact]
    public async Task Submitting_and_approving_a_change_logs_no_warning()
    {
        var log = new Support.LogCollector();
        await using var h = await ApprovalHarness.StartAsync(Policy(Level($"{Bob},{Carol}")), services: s => s.AddSingleton<ILoggerProvider>(log));
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);
        Assert.Equal(HttpStatusCode.OK, (await h.DecideAsync("carol", approval, "Approve")).StatusCode);
        await h.IdleAsync();

        Assert.Equal("Scheduled", await h.TicketStateAsync(change));
        Assert.Empty(log.Entries.Where(e => e.Category.StartsWith("Itsm.", StringComparison.Ordinal)).Select(e => $"{e.Level} {e.Category}: {e.Message}"));
    }

    [Fact]
    public async Task Any_rule_approves_on_the_first_approval_and_the_change_moves_to_Scheduled_with_an_audit_event()
    {
        await using var h = await ApprovalHarness.StartAsync(Policy(Level($"{Bob},{Carol}")));
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);
        Assert.Equal("Pending", await h.StateAsync(approval));
        Assert.Equal(["bob", "carol"], (await h.PromptsAsync(approval)).Select(p => p.GetProperty("recipient").GetString()).Order());

        var answer = await h.DecideAsync("carol", approval, "Approve", "Looks safe.");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);

        Assert.Equal("Approved", await h.StateAsync(approval));
        Assert.Equal("Scheduled", await h.TicketStateAsync(change));
        var decision = Assert.Single((await h.ApprovalAsync(approval)).GetProperty("decisions").EnumerateArray());
        Assert.Equal(("carol", "api", "Looks safe."), (decision.GetProperty("answeredBy").GetString(), decision.GetProperty("channel").GetString(), decision.GetProperty("comment").GetString()));
        var history = await h.Agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{change}/history");
        Assert.Contains(history.GetProperty("items").EnumerateArray(), e => e.GetProperty("action").GetString() == "approval.approved" && e.GetProperty("channel").GetString() == "approval");
    }

    [Fact]
    public async Task All_rule_waits_for_every_approver()
    {
        await using var h = await ApprovalHarness.StartAsync(Policy(Level($"{Bob},{Carol}", "All")));
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);

        await h.DecideAsync("bob", approval, "Approve");
        Assert.Equal("Pending", await h.StateAsync(approval));
        Assert.Equal("Authorize", await h.TicketStateAsync(change));

        await h.DecideAsync("carol", approval, "Approve");
        Assert.Equal("Approved", await h.StateAsync(approval));
        Assert.Equal("Scheduled", await h.TicketStateAsync(change));
    }

    [Fact]
    public async Task Quorum_of_two_counting_votes_survives_a_rejection_and_approves_after_the_second_approval()
    {
        await using var h = await ApprovalHarness.StartAsync(Policy(Level($"{Alice},{Bob},{Carol}", "Quorum", ""","quorumCount":2,"rejectOnFirstRejection":false""")));
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);

        await h.DecideAsync("bob", approval, "Reject", "Not this week.");
        Assert.Equal("Pending", await h.StateAsync(approval));
        await h.DecideAsync("carol", approval, "Approve");
        Assert.Equal("Pending", await h.StateAsync(approval));
        await h.DecideAsync("dan", approval, "Approve"); // alice's delegate
        Assert.Equal("Approved", await h.StateAsync(approval));
    }

    [Fact]
    public async Task Quorum_percent_counting_votes_rejects_once_the_quorum_is_out_of_reach()
    {
        // 50 % of 4 approvers: 2 approvals needed; after 3 rejections only 1 is possible.
        await using var h = await ApprovalHarness.StartAsync(Policy(Level($"{Bob},{Carol},{Cab}", "Quorum", ""","quorumPercent":50,"rejectOnFirstRejection":false""")));
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);
        Assert.Equal(3, (await h.ApprovalAsync(approval)).GetProperty("levels")[0].GetProperty("approvers").GetArrayLength()); // carol is in the CAB too: counted once

        await h.DecideAsync("bob", approval, "Reject");
        Assert.Equal("Pending", await h.StateAsync(approval));
        await h.DecideAsync("carol", approval, "Reject");
        Assert.Equal("Rejected", await h.StateAsync(approval));
        Assert.Equal("Cancelled", await h.TicketStateAsync(change));
    }

    [Fact]
    public async Task Reject_on_first_rejection_ends_the_approval_and_cancels_the_change_with_the_reason()
    {
        await using var h = await ApprovalHarness.StartAsync(Policy(Level($"{Bob},{Carol}", "All")));
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);

        await h.DecideAsync("bob", approval, "Reject", "Conflicts with the audit.");
        Assert.Equal("Rejected", await h.StateAsync(approval));
        Assert.Equal("Cancelled", await h.TicketStateAsync(change));

        var late = await h.DecideAsync("carol", approval, "Approve");
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Contains("already rejected", await late.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Levels_run_in_order_and_a_later_level_cannot_answer_early()
    {
        await using var h = await ApprovalHarness.StartAsync(Policy(Level(Bob) + "," + Level(Cab)));
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);

        var early = await h.DecideAsync("dave", approval, "Approve");
        Assert.Equal(HttpStatusCode.Forbidden, early.StatusCode);
        Assert.Contains("not an approver", await early.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await h.DecideAsync("bob", approval, "Approve");
        var record = await h.ApprovalAsync(approval);
        Assert.Equal(1, record.GetProperty("currentLevel").GetInt32());
        Assert.Equal(["bob", "carol", "dave"], (await h.PromptsAsync(approval)).Select(p => p.GetProperty("recipient").GetString()).Order());

        await h.DecideAsync("dave", approval, "Approve");
        Assert.Equal("Approved", await h.StateAsync(approval));
    }

    [Fact]
    public async Task A_delegate_receives_the_prompt_and_answers_on_behalf_without_cascading()
    {
        await using var h = await ApprovalHarness.StartAsync(Policy(Level($"{Alice},{Bob}", "All")));
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);
        var prompt = Assert.Single(await h.PromptsAsync(approval), p => p.GetProperty("approver").GetString() == "alice");
        Assert.Equal("dan", prompt.GetProperty("recipient").GetString());

        // dan delegated to erin, but delegations do not cascade: erin may not answer for alice.
        Assert.Equal(HttpStatusCode.Forbidden, (await h.DecideAsync("erin", approval, "Approve")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await h.DecideAsync("dan", approval, "Approve")).StatusCode);
        var decision = Assert.Single((await h.ApprovalAsync(approval)).GetProperty("decisions").EnumerateArray());
        Assert.Equal(("alice", "dan", "alice"), (decision.GetProperty("approver").GetString(), decision.GetProperty("answeredBy").GetString(), decision.GetProperty("onBehalfOf").GetString()));

        var again = await h.DecideAsync("alice", approval, "Reject");
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("dan already answered", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("Pending", await h.StateAsync(approval));
    }

    [Fact]
    public async Task Reminders_go_to_the_quiet_approvers_after_the_quiet_period_only()
    {
        await using var h = await ApprovalHarness.StartAsync(Policy(Level($"{Bob},{Carol}", "All"), """ "reminderAfterMinutes":60,"""));
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);

        await h.AdvanceAsync(TimeSpan.FromMinutes(30));
        await h.DecideAsync("bob", approval, "Approve");

        // The quiet period restarts with bob's answer: nothing at 89 minutes, carol reminded at 90.
        await h.AdvanceAsync(TimeSpan.FromMinutes(59));
        Assert.DoesNotContain(await h.PromptsAsync(approval), p => p.GetProperty("kind").GetString() == "reminder");
        await h.AdvanceAsync(TimeSpan.FromMinutes(1));
        var reminder = Assert.Single(await h.PromptsAsync(approval), p => p.GetProperty("kind").GetString() == "reminder");
        Assert.Equal("carol", reminder.GetProperty("recipient").GetString());
        Assert.Equal(h.App.Clock.GetUtcNow(), reminder.GetProperty("at").GetDateTimeOffset());

        await h.AdvanceAsync(TimeSpan.FromMinutes(60));
        Assert.Equal(2, (await h.PromptsAsync(approval)).Count(p => p.GetProperty("kind").GetString() == "reminder"));
    }

    [Fact]
    public async Task Timeout_auto_rejects_at_the_deadline_and_a_late_answer_changes_nothing()
    {
        await using var h = await ApprovalHarness.StartAsync(Policy(Level($"{Bob}", extra: ""","timeoutMinutes":120,"onTimeout":"AutoReject" """)));
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);

        await h.AdvanceAsync(TimeSpan.FromMinutes(119));
        Assert.Equal("Pending", await h.StateAsync(approval));
        await h.AdvanceAsync(TimeSpan.FromMinutes(1));
        var record = await h.ApprovalAsync(approval);
        Assert.Equal("Rejected", record.GetProperty("state").GetString());
        Assert.Contains("No decision within 120 minutes", record.GetProperty("outcomeReason").GetString(), StringComparison.Ordinal);
        Assert.Equal("Cancelled", await h.TicketStateAsync(change));

        var late = await h.DecideAsync("bob", approval, "Approve");
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Empty((await h.ApprovalAsync(approval)).GetProperty("decisions").EnumerateArray());
    }

    [Fact]
    public async Task Timeout_escalates_to_the_substitutes_who_may_then_approve()
    {
        await using var h = await ApprovalHarness.StartAsync(Policy(Level($"{Bob}", extra: ""","timeoutMinutes":60,"onTimeout":"Escalate","substitutes":["sue"]""")));
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);
        Assert.Equal(HttpStatusCode.Forbidden, (await h.DecideAsync("sue", approval, "Approve")).StatusCode);

        await h.AdvanceAsync(TimeSpan.FromMinutes(60));
        var escalation = Assert.Single(await h.PromptsAsync(approval), p => p.GetProperty("kind").GetString() == "escalation");
        Assert.Equal("sue", escalation.GetProperty("recipient").GetString());
        Assert.Equal("Pending", await h.StateAsync(approval));

        Assert.Equal(HttpStatusCode.OK, (await h.DecideAsync("sue", approval, "Approve")).StatusCode);
        Assert.Equal("Approved", await h.StateAsync(approval));
    }

    [Fact]
    public async Task Escalated_level_still_unanswered_is_rejected_after_a_second_period()
    {
        await using var h = await ApprovalHarness.StartAsync(Policy(Level($"{Bob}", extra: ""","timeoutMinutes":60,"onTimeout":"Escalate","substitutes":["sue"]""")));
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);

        await h.AdvanceAsync(TimeSpan.FromMinutes(60));
        await h.AdvanceAsync(TimeSpan.FromMinutes(60));
        Assert.Equal("Rejected", await h.StateAsync(approval));
        Assert.Contains("after escalating", (await h.ApprovalAsync(approval)).GetProperty("outcomeReason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Timeout_auto_approves_a_low_risk_change()
    {
        await using var h = await ApprovalHarness.StartAsync(Policy(Level($"{Bob}", extra: ""","timeoutMinutes":60,"onTimeout":"AutoApprove" """)));
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);
        Assert.Equal("Low", (await h.ApprovalAsync(approval)).GetProperty("risk").GetProperty("level").GetString());

        await h.AdvanceAsync(TimeSpan.FromMinutes(60));
        Assert.Equal("Approved", await h.StateAsync(approval));
        Assert.Equal("Scheduled", await h.TicketStateAsync(change));
    }

    [Fact]
    public async Task Timeout_auto_approve_rejects_a_riskier_change_and_says_why()
    {
        await using var h = await ApprovalHarness.StartAsync(Policy(Level($"{Bob}", extra: ""","timeoutMinutes":60,"onTimeout":"AutoApprove" """)));
        var change = await h.SubmitChangeAsync(risk: """{"serviceOutageExpected":true,"testedOutsideProduction":false,"complexImplementation":true}""");
        var approval = await h.ApprovalIdAsync(change);
        Assert.Equal("Medium", (await h.ApprovalAsync(approval)).GetProperty("risk").GetProperty("level").GetString());

        await h.AdvanceAsync(TimeSpan.FromMinutes(60));
        var record = await h.ApprovalAsync(approval);
        Assert.Equal("Rejected", record.GetProperty("state").GetString());
        Assert.Contains("only to low risk", record.GetProperty("outcomeReason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_duplicate_answers_count_once_and_the_second_is_told_why()
    {
        await using var h = await ApprovalHarness.StartAsync(Policy(Level($"{Bob},{Carol}", "All")));
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => h.User("bob").PostAsync($"/api/approvals/{approval}/decisions", ApprovalHarness.Json("""{"verdict":"Approve"}"""))));
        await h.IdleAsync();
        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        Assert.Equal(3, answers.Count(a => a.StatusCode == HttpStatusCode.Conflict));
        Assert.Single((await h.ApprovalAsync(approval)).GetProperty("decisions").EnumerateArray());

        var stranger = await h.DecideAsync("mallory", approval, "Approve");
        Assert.Equal(HttpStatusCode.Forbidden, stranger.StatusCode);
        Assert.Equal("Pending", await h.StateAsync(approval));
        Assert.Single((await h.ApprovalAsync(approval)).GetProperty("decisions").EnumerateArray());
    }

    [Fact]
    public async Task Concurrent_answers_of_different_approvers_are_all_recorded()
    {
        await using var h = await ApprovalHarness.StartAsync(Policy(Level($"{Alice},{Bob},{Carol}", "All")));
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);

        var answers = await Task.WhenAll(new[] { "alice", "bob", "carol" }.Select(u => h.User(u).PostAsync($"/api/approvals/{approval}/decisions", ApprovalHarness.Json("""{"verdict":"Approve"}"""))));
        await h.IdleAsync();
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.Equal("Approved", await h.StateAsync(approval));
        Assert.Equal(3, (await h.ApprovalAsync(approval)).GetProperty("decisions").GetArrayLength());
    }

    [Fact]
    public async Task An_answer_racing_the_timeout_either_wins_or_is_told_it_is_late_never_both()
    {
        for (var round = 0; round < 3; round++)
        {
            await using var h = await ApprovalHarness.StartAsync(Policy(Level($"{Bob}", extra: ""","timeoutMinutes":60,"onTimeout":"AutoReject" """)));
            var change = await h.SubmitChangeAsync();
            var approval = await h.ApprovalIdAsync(change);
            await h.AdvanceAsync(TimeSpan.FromMinutes(59));

            var answer = h.User("bob").PostAsync($"/api/approvals/{approval}/decisions", ApprovalHarness.Json("""{"verdict":"Approve"}"""));
            h.App.Clock.Advance(TimeSpan.FromMinutes(1));
            var response = await answer;
            await h.IdleAsync();

            var state = await h.StateAsync(approval);
            var decisions = (await h.ApprovalAsync(approval)).GetProperty("decisions").GetArrayLength();
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Assert.Equal(("Approved", 1, "Scheduled"), (state, decisions, await h.TicketStateAsync(change)));
            }
            else
            {
                Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
                Assert.Equal(("Rejected", 0, "Cancelled"), (state, decisions, await h.TicketStateAsync(change)));
            }
        }
    }

    [Fact]
    public async Task A_level_with_an_empty_group_is_rejected_at_once_instead_of_waiting_forever()
    {
        await using var h = await ApprovalHarness.StartAsync(Policy(Level("""{"kind":"Group","id":"empty"},{"kind":"Group","id":"unknown"}""")));
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);

        var record = await h.ApprovalAsync(approval);
        Assert.Equal("Rejected", record.GetProperty("state").GetString());
        Assert.Contains("no approvers", record.GetProperty("outcomeReason").GetString(), StringComparison.Ordinal);
        Assert.Equal("Cancelled", await h.TicketStateAsync(change));
    }

    [Fact]
    public async Task Changes_no_policy_matches_are_left_for_manual_authorisation_and_standard_changes_are_recorded_as_pre_approved()
    {
        await using var h = await ApprovalHarness.StartAsync("""{"policies":[{"id":"ecab","name":"Emergency CAB","changeTypes":["Emergency"],"levels":[{"name":"ECAB","approvers":[{"kind":"User","id":"bob"}]}]}]}""");
        var normal = await h.SubmitChangeAsync();
        Assert.Equal("Authorize", await h.TicketStateAsync(normal));
        Assert.Empty((await h.Agent.GetFromJsonAsync<JsonElement>($"/api/changes/{normal}/assessment")).GetProperty("approvals").EnumerateArray());

        var admin = h.App.As("root", "contoso", Itsm.Functions.Security.AppRoles.Admin);
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync("/api/manage/changes/templates/cert-renewal", ApprovalHarness.Json("""{"name":"Certificate renewal","implementationPlan":"Renew.","backoutPlan":"Restore the old certificate."}"""))).StatusCode);
        var raised = await h.Agent.PostAsync("/api/changes/templates/cert-renewal/changes", ApprovalHarness.Json($$"""{"plannedStart":"{{h.App.Clock.GetUtcNow().AddDays(1):O}}"}"""));
        var standard = (await raised.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await h.Agent.PostAsync($"/api/tickets/{standard}/actions/submit", ApprovalHarness.Json("{}"))).StatusCode);
        await h.IdleAsync();
        Assert.Equal("Scheduled", await h.TicketStateAsync(standard));
        var record = await h.ApprovalAsync(await h.ApprovalIdAsync(standard));
        Assert.Equal(("Approved", "Pre-approved standard change: Certificate renewal v1"), (record.GetProperty("state").GetString(), record.GetProperty("policyName").GetString()));

        var emergency = await h.SubmitChangeAsync("Emergency");
        var ecab = await h.ApprovalAsync(await h.ApprovalIdAsync(emergency));
        Assert.True(ecab.GetProperty("retrospectiveReviewRequired").GetBoolean());
    }

    [Fact]
    public async Task Authorising_by_hand_is_refused_while_the_approval_runs_and_reverting_the_change_to_New_withdraws_it()
    {
        await using var h = await ApprovalHarness.StartAsync(Policy(Level($"{Bob},{Carol}", "All")));
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);
        await h.DecideAsync("bob", approval, "Approve");
        var manager = h.App.As("cm", "contoso", Itsm.Functions.Security.AppRoles.ChangeManager);

        var manual = await manager.PostAsync($"/api/tickets/{change}/actions/authorize", ApprovalHarness.Json("{}"));
        Assert.Equal(HttpStatusCode.Conflict, manual.StatusCode);
        Assert.Contains("awaits the approval 'Change advisory board'", await manual.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await h.IdleAsync();
        Assert.Equal(("Authorize", "Pending"), (await h.TicketStateAsync(change), await h.StateAsync(approval)));

        var reverted = await manager.PostAsync($"/api/tickets/{change}/actions/revert", ApprovalHarness.Json("{}"));
        Assert.Equal(HttpStatusCode.OK, reverted.StatusCode);
        await h.IdleAsync();

        var record = await h.ApprovalAsync(approval);
        Assert.Equal("Withdrawn", record.GetProperty("state").GetString());
        Assert.Contains("now New", record.GetProperty("outcomeReason").GetString(), StringComparison.Ordinal);
        var late = await h.DecideAsync("carol", approval, "Approve");
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Contains("already withdrawn", await late.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("New", await h.TicketStateAsync(change));

        // Submitted again, it gets a new approval that starts from the first level.
        var resubmitted = await h.Agent.PostAsync($"/api/tickets/{change}/actions/submit", ApprovalHarness.Json("{}"));
        Assert.Equal(HttpStatusCode.OK, resubmitted.StatusCode);
        await h.IdleAsync();
        var second = await h.ApprovalIdAsync(change);
        Assert.NotEqual(approval, second);
        Assert.Equal("Pending", await h.StateAsync(second));
        Assert.Empty((await h.ApprovalAsync(second)).GetProperty("decisions").EnumerateArray());
    }

    [Fact]
    public async Task Approvals_are_invisible_to_other_tenants_and_to_people_outside_them()
    {
        await using var h = await ApprovalHarness.StartAsync(Policy(Level(Bob)));
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);

        Assert.Equal(HttpStatusCode.NotFound, (await h.App.As("sam", "fabrikam", Itsm.Functions.Security.AppRoles.Agent).GetAsync($"/api/approvals/{approval}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await h.App.As("bob", "fabrikam", Itsm.Functions.Security.AppRoles.Approver).PostAsync($"/api/approvals/{approval}/decisions", ApprovalHarness.Json("""{"verdict":"Approve"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await h.User("mallory").GetAsync($"/api/approvals/{approval}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await h.User("bob").GetAsync($"/api/approvals/{approval}")).StatusCode);
        await h.IdleAsync();
        Assert.Equal("Pending", await h.StateAsync(approval));
    }
}

public class ApprovalRestartTests
{
    [Fact]
    public async Task An_approval_survives_a_restart_of_the_app_and_its_timeout_still_fires()
    {
        var directory = Support.TempDirectory.Create();
        var clock = new Support.FakeTimeProvider(Support.StandaloneApp.Epoch);
        const string settings = """
            {"policies":[{"id":"cab","name":"CAB","changeTypes":["Normal"],
              "levels":[{"name":"One","approvers":[{"kind":"User","id":"bob"}]},
                        {"name":"Two","approvers":[{"kind":"User","id":"carol"}],"timeoutMinutes":60,"onTimeout":"AutoReject"}]}]}
            """;
        string change, approval;
        await using (var first = new ApprovalHarness(await Support.StandaloneApp.StartAsync(directory: directory, clock: clock)))
        {
            var admin = first.App.As("root", "contoso", Itsm.Functions.Security.AppRoles.Admin);
            Assert.True((await admin.PutAsync("/api/manage/approvals/settings", ApprovalHarness.Json(settings))).IsSuccessStatusCode);
            change = await first.SubmitChangeAsync();
            approval = await first.ApprovalIdAsync(change);
            await first.DecideAsync("bob", approval, "Approve");
        }

        await using var second = new ApprovalHarness(await Support.StandaloneApp.StartAsync(directory: directory, clock: clock));
        await second.IdleAsync();
        var bobsView = await second.User("bob").GetFromJsonAsync<JsonElement>($"/api/approvals/{approval}");
        Assert.All(bobsView.GetProperty("prompts").EnumerateArray(), p => Assert.Equal("", p.GetProperty("link").GetString()));
        Assert.Equal(1, (await second.ApprovalAsync(approval)).GetProperty("currentLevel").GetInt32());

        await second.AdvanceAsync(TimeSpan.FromMinutes(60));
        Assert.Equal("Rejected", await second.StateAsync(approval));
        Assert.Equal("Cancelled", await second.TicketStateAsync(change));
    }
}
