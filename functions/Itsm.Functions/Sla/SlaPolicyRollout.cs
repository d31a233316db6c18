using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;
using Microsoft.DurableTask;

namespace Itsm.Functions.Sla;

public sealed record SlaRolloutInput(string TenantId, string PolicyId, int PolicyVersion, string? Continuation = null, int Updated = 0);

public sealed record SlaRolloutPage(IReadOnlyList<string> ChangedClocks, string? Continuation, int Updated);

/// <summary>
/// Applies a changed policy to the open tickets that run clocks under it, a page at a time, and wakes each moved
/// clock's orchestration so that a shorter target fires on time rather than at the old instant. Started by the
/// policy PUT when the policy says open tickets follow it; one instance per policy version.
/// </summary>
public sealed class SlaPolicyRolloutOrchestrator : TaskOrchestrator<SlaRolloutInput, int>
{
    public const string Name = "SlaPolicyRollout";

    private static readonly TaskOptions Retry = TaskOptions.FromRetryPolicy(new RetryPolicy(10, TimeSpan.FromSeconds(5), 2.0, TimeSpan.FromMinutes(5)));

    public static string InstanceId(string tenantId, string policyId, int version) => $"sla-rollout:{tenantId}:{policyId}:{version}";

    public override async Task<int> RunAsync(TaskOrchestrationContext context, SlaRolloutInput input)
    {
        var page = await context.CallActivityAsync<SlaRolloutPage>(ApplySlaPolicyPageActivity.Name, input, Retry);
        foreach (var instanceId in page.ChangedClocks)
        {
            context.SendEvent(instanceId, SlaClockOrchestrator.ClockChangedEvent, 0);
        }

        if (page.Continuation is null)
        {
            return input.Updated + page.Updated;
        }

        context.ContinueAsNew(input with { Continuation = page.Continuation, Updated = input.Updated + page.Updated });
        return 0;
    }
}

/// <summary>One page of open tickets: each whose clocks the new policy moves is written again (reconciled now); idempotent.</summary>
public sealed class ApplySlaPolicyPageActivity(TicketStore tickets, SlaSettings settings, TimeProvider time) : TaskActivity<SlaRolloutInput, SlaRolloutPage>
{
    public const string Name = "SlaPolicyRollout_ApplyPage";
    private const int PageSize = 200;

    private static readonly string[] OpenStates = Enum.GetValues<TicketState>()
        .Where(s => s is not (TicketState.Resolved or TicketState.Closed or TicketState.Cancelled))
        .Select(s => s.ToString())
        .ToArray();

    public override async Task<SlaRolloutPage> RunAsync(TaskActivityContext context, SlaRolloutInput input)
    {
        var page = await tickets.QueryTicketsAsync(
            input.TenantId, [new QueryFilter("state", FilterOperator.In, OpenStates)], new QuerySort("createdAt", false), PageSize, input.Continuation, CancellationToken.None);
        var changed = new List<string>();
        var updated = 0;
        foreach (var item in page.Items.Where(i => i.Document.Sla.Any(c => c.PolicyId == input.PolicyId && !c.IsStopped)))
        {
            var stored = item;
            for (var attempt = 0; attempt < 5 && stored is not null; attempt++)
            {
                var now = time.GetUtcNow();
                var ticket = stored.Document with { UpdatedAt = now };
                if (await settings.ContextForAsync(ticket, CancellationToken.None) is not { } sla || SlaTracker.Reconcile(ticket, sla, now).Events.Count == 0)
                {
                    break;
                }

                try
                {
                    var written = await tickets.UpdateAsync(ticket, stored.ETag, [], CancellationToken.None);
                    updated++;
                    changed.AddRange(written.Document.Sla
                        .Where(c => !c.IsStopped && stored.Document.Sla.Any(b => b.Key == c.Key && b.Generation == c.Generation && b != c))
                        .Select(c => TicketSla.InstanceId(input.TenantId, written.Document.Id, c.Key, c.Generation)));
                    break;
                }
                catch (PreconditionFailedException)
                {
                    stored = await tickets.ReadAsync(input.TenantId, item.Document.Id, CancellationToken.None);
                }
            }
        }

        return new SlaRolloutPage(changed, page.ContinuationToken, updated);
    }
}
