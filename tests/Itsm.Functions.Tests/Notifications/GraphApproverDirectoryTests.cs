using System.Net.Http.Json;
using Itsm.Functions.Approvals;
using Itsm.Functions.Notifications;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Approvals;
using Microsoft.Extensions.Options;
using Microsoft.Graph;

namespace Itsm.Functions.Tests.Notifications;

/// <summary>Requesters' managers read from Entra ID through Graph (<c>GET /users/{id}/manager</c>), against a fake Graph answering as Graph documents it.</summary>
public sealed class GraphApproverDirectoryTests : IAsyncLifetime
{
    private const string Rita = "5b3c0a1e-8f7d-4a39-9e0c-2d1f6b7a8c90";
    private const string Mona = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
    private static readonly ApprovalSettings Data = new([], Managers: new Dictionary<string, string> { [Rita] = "mona-from-settings", ["rob"] = "mo" });

    private FakeGraph _graph = null!;

    public async Task InitializeAsync() => _graph = await FakeGraph.StartAsync();

    public async Task DisposeAsync() => await _graph.DisposeAsync();

    private const string Cab = "7a1c2e3f-0000-4000-8000-00000000ca0b";
    private static readonly ApprovalSettings GroupData = new([], Groups: new Dictionary<string, IReadOnlyList<string>> { [Cab] = ["from-settings"], ["cab"] = ["carol"] });

    private GraphApproverDirectory Directory(bool enabled = true, string? homeTenant = null)
    {
        var services = new ServiceCollection().AddSingleton(_graph.CreateClient()).BuildServiceProvider();
        return new GraphApproverDirectory(services, Options.Create(new GraphOptions { DirectoryManagers = enabled, DirectoryGroups = enabled }), new AuthOptions { TenantId = homeTenant }, Microsoft.Extensions.Logging.Abstractions.NullLogger<GraphApproverDirectory>.Instance);
    }

    [Fact]
    public async Task Without_the_Graph_permission_the_approval_settings_name_the_people_instead_of_the_approval_failing()
    {
        _graph.Managers[Rita] = Mona;
        _graph.Groups[Cab] = ["u1"];
        _graph.DirectoryNotGranted = true;

        Assert.Equal("mona-from-settings", await Directory().ManagerOfAsync("contoso", Rita, Data, CancellationToken.None));
        Assert.Equal(["from-settings"], await Directory().GroupMembersAsync("contoso", Cab, GroupData, CancellationToken.None));
        Assert.Equal(2, _graph.DirectoryReads.Count);
    }

    [Fact]
    public async Task An_Entra_group_gives_all_its_users_across_pages()
    {
        _graph.Groups[Cab] = ["u1", "u2", "u3", "u4", "u5"];

        Assert.Equal(["u1", "u2", "u3", "u4", "u5"], await Directory().GroupMembersAsync("contoso", Cab, GroupData, CancellationToken.None));

        Assert.Equal(3, _graph.DirectoryReads.Count);
        Assert.StartsWith($"/v1.0/groups/{Cab}/transitiveMembers/graph.user?$select=id", _graph.DirectoryReads.First(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_group_named_in_the_settings_or_unknown_to_the_directory_comes_from_the_settings()
    {
        Assert.Equal(["carol"], await Directory().GroupMembersAsync("contoso", "cab", GroupData, CancellationToken.None));
        Assert.Empty(_graph.DirectoryReads);
        Assert.Equal(["from-settings"], await Directory().GroupMembersAsync("contoso", Cab, GroupData, CancellationToken.None));
        Assert.Single(_graph.DirectoryReads);
        Assert.Equal(["from-settings"], await Directory(enabled: false).GroupMembersAsync("contoso", Cab, GroupData, CancellationToken.None));
        Assert.Single(_graph.DirectoryReads);
    }

    [Fact]
    public async Task The_manager_is_the_directorys_and_only_their_id_is_asked_for()
    {
        _graph.Managers[Rita] = Mona;

        Assert.Equal(Mona, await Directory().ManagerOfAsync("contoso", Rita, Data, CancellationToken.None));

        Assert.Equal($"/v1.0/users/{Rita}/manager?$select=id", Assert.Single(_graph.DirectoryReads));
    }

    [Fact]
    public async Task Someone_without_a_manager_in_the_directory_falls_back_to_the_approval_settings()
    {
        Assert.Equal("mona-from-settings", await Directory().ManagerOfAsync("contoso", Rita, Data, CancellationToken.None));
        Assert.Null(await Directory().ManagerOfAsync("contoso", "nobody", Data, CancellationToken.None));
        Assert.Equal(2, _graph.DirectoryReads.Count);
    }

    [Fact]
    public async Task A_manager_who_is_an_organizational_contact_cannot_approve_so_the_settings_name_the_manager()
    {
        _graph.ContactManagers[Rita] = "c0471ac7-0000-4000-8000-00000000c0c0";

        Assert.Equal("mona-from-settings", await Directory().ManagerOfAsync("contoso", Rita, Data, CancellationToken.None));
        Assert.Single(_graph.DirectoryReads);
    }

    [Fact]
    public async Task A_requester_id_with_reserved_characters_stays_one_user_in_the_request_path()
    {
        // Agents may type a ticket's requester id: it must not steer the read to another Graph resource.
        Assert.Null(await Directory().ManagerOfAsync("contoso", "x/../../groups/cab#y@contoso.com", Data, CancellationToken.None));

        Assert.Equal("/v1.0/users/x%2F..%2F..%2Fgroups%2Fcab%23y%40contoso.com/manager?$select=id", Assert.Single(_graph.SentTargets));
    }

    [Fact]
    public async Task A_directory_that_cannot_answer_now_fails_the_read_so_the_activity_retries()
    {
        _graph.Managers[Rita] = Mona;
        _graph.MakeDirectoryUnavailable(1);

        await Assert.ThrowsAnyAsync<Microsoft.Kiota.Abstractions.ApiException>(() => Directory().ManagerOfAsync("contoso", Rita, Data, CancellationToken.None));
        Assert.Equal(Mona, await Directory().ManagerOfAsync("contoso", Rita, Data, CancellationToken.None));
    }

    [Fact]
    public async Task Graph_is_not_asked_when_the_directory_is_off_or_for_another_tenants_users()
    {
        _graph.Managers[Rita] = Mona;

        Assert.Equal("mona-from-settings", await Directory(enabled: false).ManagerOfAsync("contoso", Rita, Data, CancellationToken.None));
        Assert.Equal("mona-from-settings", await Directory(homeTenant: "home-tenant").ManagerOfAsync("other-tenant", Rita, Data, CancellationToken.None));
        Assert.Empty(_graph.DirectoryReads);
        Assert.Equal(Mona, await Directory(homeTenant: "home-tenant").ManagerOfAsync("HOME-TENANT", Rita, Data, CancellationToken.None));
    }

    [Fact]
    public async Task A_CAB_level_naming_an_Entra_group_prompts_its_members_from_the_directory()
    {
        _graph.Groups[Cab] = ["0b5e-carol", "0b5e-dave", "0b5e-erin"];
        var settings = $$"""
            {"policies":[{"id":"cab","name":"CAB","changeTypes":["Normal"],
              "levels":[{"name":"CAB","approvers":[{"kind":"Group","id":"{{Cab}}"}],"rule":"Quorum","quorumCount":2}]}]}
            """;
        await using var h = await ApprovalHarness.StartAsync(settings, services => services.AddSingleton<GraphServiceClient>(_graph.CreateClient()), new Dictionary<string, string?> { ["Itsm:Graph:DirectoryGroups"] = "true" });

        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);

        Assert.Equal(["0b5e-carol", "0b5e-dave", "0b5e-erin"], (await h.PromptsAsync(approval)).Select(p => p.GetProperty("recipient").GetString()).Order());
        await h.DecideAsync("0b5e-carol", approval, "Approve");
        await h.DecideAsync("0b5e-erin", approval, "Approve");
        Assert.Equal("Scheduled", await h.TicketStateAsync(change));
    }

    [Fact]
    public async Task An_approval_level_for_the_requesters_manager_prompts_the_manager_the_directory_names()
    {
        _graph.Managers["rita"] = Mona;
        var settings = """
            {"policies":[{"id":"hardware","name":"Hardware requests","ticketType":"ServiceRequest",
              "levels":[{"name":"Manager","approvers":[{"kind":"RequesterManager"}]}]}],
             "managers":{"rita":"mona-from-settings"}}
            """;
        await using var h = await ApprovalHarness.StartAsync(settings, services => services.AddSingleton<GraphServiceClient>(_graph.CreateClient()), new Dictionary<string, string?> { ["Itsm:Graph:DirectoryManagers"] = "true" });

        var created = await h.App.As("rita", "contoso").PostAsync("/api/tickets", ApprovalHarness.Json("""{"type":"ServiceRequest","title":"Docking station"}"""));
        var request = (await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString()!;
        await h.IdleAsync();

        var approval = (await h.Agent.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/tickets/{request}/approvals")).GetProperty("approvals")[0].GetProperty("id").GetString()!;
        Assert.Equal([Mona], (await h.PromptsAsync(approval)).Select(p => p.GetProperty("recipient").GetString()));
        Assert.Equal(System.Net.HttpStatusCode.OK, (await h.DecideAsync(Mona, approval, "Approve")).StatusCode);
        Assert.Equal("Approved", await h.StateAsync(approval));
    }
}
