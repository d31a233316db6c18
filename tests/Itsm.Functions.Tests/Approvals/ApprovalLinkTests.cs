using System.Net;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Approvals;

/// <summary>
/// The signed links of approval prompts and the approval page behind them: GET only shows (mail scanners prefetch),
/// POST decides once, for the signed-in person the link was sent to, before it expires, if nobody altered it.
/// </summary>
public class ApprovalLinkTests
{
    private const string Settings = """
        {"policies":[{"id":"cab","name":"CAB","changeTypes":["Normal"],"linkLifetimeHours":24,
          "levels":[{"name":"Owners","approvers":[{"kind":"User","id":"bob"},{"kind":"User","id":"carol"}],"rule":"All"},
                    {"name":"CAB","approvers":[{"kind":"User","id":"dave"}]}]}]}
        """;

    private static async Task<(ApprovalHarness H, string Change, string Approval)> StartAsync()
    {
        var h = await ApprovalHarness.StartAsync(Settings);
        var change = await h.SubmitChangeAsync();
        return (h, change, await h.ApprovalIdAsync(change));
    }

    private static async Task<string> LinkAsync(ApprovalHarness h, string approval, string recipient) =>
        (await h.PromptsAsync(approval)).Last(p => p.GetProperty("recipient").GetString() == recipient).GetProperty("link").GetString()!;

    private static string Token(string link) => Uri.UnescapeDataString(link[(link.IndexOf("?t=", StringComparison.Ordinal) + 3)..]);

    private static string DevToken(ApprovalHarness h, string user, string tenant = "contoso") =>
        DevTokens.Mint(AuthOptions.DefaultDevKeyPath(h.App.DatabasePath), user, [AppRoles.Approver], tenant, now: h.App.Clock.GetUtcNow());

    private static async Task<(HttpStatusCode Status, string Html)> PostAsync(ApprovalHarness h, string token, string decision, string? signIn, string? header = null)
    {
        var form = new Dictionary<string, string> { ["t"] = token, ["decision"] = decision, ["comment"] = "From my phone" };
        if (signIn is not null)
        {
            form["access_token"] = signIn;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/approval-page") { Content = new FormUrlEncodedContent(form) };
        if (header is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", header);
        }

        var response = await h.App.Client.SendAsync(request);
        await h.IdleAsync();
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Prompt_links_are_absolute_at_the_address_the_app_listens_on_and_open_the_page()
    {
        await using var h = await ApprovalHarness.StartAsync(Settings, kestrel: true);
        var approval = await h.ApprovalIdAsync(await h.SubmitChangeAsync());

        var link = await LinkAsync(h, approval, "bob");

        Assert.StartsWith($"http://127.0.0.1:{h.App.BaseAddress.Port}/api/approval-page?t=", link, StringComparison.Ordinal);
        using var browser = new HttpClient();
        var page = await browser.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("name=\"decision\" value=\"approve\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_public_base_url_setting_is_where_links_point_behind_a_proxy()
    {
        await using var h = await ApprovalHarness.StartAsync(Settings, settings: new Dictionary<string, string?> { ["Itsm:PublicBaseUrl"] = "https://itsm.contoso.com/" });
        var approval = await h.ApprovalIdAsync(await h.SubmitChangeAsync());

        Assert.StartsWith("https://itsm.contoso.com/api/approval-page?t=", await LinkAsync(h, approval, "bob"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_page_shows_the_decision_at_once_when_the_answer_decides_the_approval()
    {
        await using var h = await ApprovalHarness.StartAsync("""
            {"policies":[{"id":"cab","name":"CAB","changeTypes":["Normal"],"levels":[{"name":"CAB","approvers":[{"kind":"User","id":"bob"}]}]}]}
            """);
        var approval = await h.ApprovalIdAsync(await h.SubmitChangeAsync());
        var link = Token(await LinkAsync(h, approval, "bob"));

        var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["t"] = link, ["decision"] = "approve", ["access_token"] = DevToken(h, "bob") });
        var answered = await h.App.Client.PostAsync("/api/approval-page", form);

        // Read before the orchestration had any chance to run: the recorded answer already decided the approval.
        var html = await answered.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Contains("<dd id=\"state\">Approved</dd>", html, StringComparison.Ordinal);
        Assert.Equal("Approved", await h.StateAsync(approval));
        await h.IdleAsync();
        Assert.Equal("Scheduled", await h.TicketStateAsync(await TicketOfAsync(h, approval)));
    }

    private static async Task<string> TicketOfAsync(ApprovalHarness h, string approval) =>
        (await h.ApprovalAsync(approval)).GetProperty("subjectId").GetString()!;

    [Fact]
    public async Task Opening_the_link_shows_the_change_and_never_decides_even_when_prefetched_repeatedly()
    {
        var (h, _, approval) = await StartAsync();
        await using var _h = h;
        var link = await LinkAsync(h, approval, "bob");

        for (var i = 0; i < 3; i++)
        {
            var page = await h.App.Client.GetAsync(link);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Contains("no-store", page.Headers.CacheControl?.ToString() ?? "", StringComparison.Ordinal);
            var html = await page.Content.ReadAsStringAsync();
            Assert.Contains("Patch VPN gateway", html, StringComparison.Ordinal);
            Assert.Contains("id=\"risk\"", html, StringComparison.Ordinal);
            Assert.Contains("name=\"decision\" value=\"approve\"", html, StringComparison.Ordinal);
        }

        await h.IdleAsync();
        Assert.Empty((await h.ApprovalAsync(approval)).GetProperty("decisions").EnumerateArray());
        Assert.Equal("Pending", await h.StateAsync(approval));
    }

    [Fact]
    public async Task The_signed_in_recipient_decides_once_and_a_replayed_link_changes_nothing()
    {
        var (h, _, approval) = await StartAsync();
        await using var _h = h;
        var token = Token(await LinkAsync(h, approval, "bob"));

        var (status, html) = await PostAsync(h, token, "approve", DevToken(h, "bob"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("is recorded", html, StringComparison.Ordinal);
        var decision = Assert.Single((await h.ApprovalAsync(approval)).GetProperty("decisions").EnumerateArray());
        Assert.Equal(("bob", "page", "From my phone"), (decision.GetProperty("answeredBy").GetString(), decision.GetProperty("channel").GetString(), decision.GetProperty("comment").GetString()));

        var (replayStatus, replayHtml) = await PostAsync(h, token, "reject", DevToken(h, "bob"));
        Assert.Equal(HttpStatusCode.Conflict, replayStatus);
        Assert.Contains("already used", replayHtml, StringComparison.Ordinal);
        Assert.Single((await h.ApprovalAsync(approval)).GetProperty("decisions").EnumerateArray());
    }

    [Fact]
    public async Task A_bearer_header_signs_in_as_well_as_the_form_field()
    {
        var (h, _, approval) = await StartAsync();
        await using var _h = h;
        var (status, _) = await PostAsync(h, Token(await LinkAsync(h, approval, "carol")), "approve", null, header: DevToken(h, "carol"));
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task A_tampered_or_forged_link_is_refused_and_nothing_is_recorded()
    {
        var (h, _, approval) = await StartAsync();
        await using var _h = h;
        var token = Token(await LinkAsync(h, approval, "bob"));
        var (payload, signature) = (token.Split('.')[0], token.Split('.')[1]);

        // The same claims for another approver slot (carol), keeping bob's signature.
        var claims = System.Text.Encoding.UTF8.GetString(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(payload)).Replace("\"usr\":\"bob\"", "\"usr\":\"carol\"", StringComparison.Ordinal);
        var altered = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(claims) + "." + signature;
        var flipped = payload + "." + (signature[0] == 'A' ? 'B' : 'A') + signature[1..];
        foreach (var bad in new[] { altered, flipped, "garbage", payload, "" })
        {
            var page = await h.App.Client.GetAsync($"/api/approval-page?t={Uri.EscapeDataString(bad)}");
            Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
            Assert.Contains("not valid", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            var (status, _) = await PostAsync(h, bad, "approve", DevToken(h, "carol"));
            Assert.Equal(HttpStatusCode.BadRequest, status);
        }

        // A link signed by another installation's key.
        await using var other = await ApprovalHarness.StartAsync(Settings);
        var foreignChange = await other.SubmitChangeAsync();
        var foreign = Token(await LinkAsync(other, await other.ApprovalIdAsync(foreignChange), "bob"));
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(h, foreign, "approve", DevToken(h, "bob"))).Status);

        Assert.Empty((await h.ApprovalAsync(approval)).GetProperty("decisions").EnumerateArray());
    }

    [Fact]
    public async Task An_expired_link_is_refused_on_open_and_on_post()
    {
        var (h, _, approval) = await StartAsync();
        await using var _h = h;
        var link = await LinkAsync(h, approval, "bob");

        await h.AdvanceAsync(TimeSpan.FromHours(24));
        var page = await h.App.Client.GetAsync(link);
        Assert.Equal(HttpStatusCode.Gone, page.StatusCode);
        Assert.Contains("expired", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Gone, (await PostAsync(h, Token(link), "approve", DevToken(h, "bob"))).Status);
        Assert.Empty((await h.ApprovalAsync(approval)).GetProperty("decisions").EnumerateArray());
    }

    [Fact]
    public async Task Someone_else_signed_in_with_the_link_or_nobody_signed_in_changes_nothing()
    {
        var (h, _, approval) = await StartAsync();
        await using var _h = h;
        var token = Token(await LinkAsync(h, approval, "bob"));

        var (wrong, html) = await PostAsync(h, token, "approve", DevToken(h, "carol"));
        Assert.Equal(HttpStatusCode.Forbidden, wrong);
        Assert.Contains("sent to someone else", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(h, token, "approve", DevToken(h, "bob", "fabrikam"))).Status);
        var (noSignIn, noSignInHtml) = await PostAsync(h, token, "approve", null);
        Assert.Equal(HttpStatusCode.Unauthorized, noSignIn);
        Assert.Contains("Sign-in token", noSignInHtml, StringComparison.Ordinal);
        var (badSignIn, badSignInHtml) = await PostAsync(h, token, "approve", "not-a-token");
        Assert.Equal(HttpStatusCode.Unauthorized, badSignIn);
        Assert.Contains("not accepted", badSignInHtml, StringComparison.Ordinal);

        // A person in a browser cannot send headers: the page never tells them to.
        Assert.DoesNotContain("Authorization", noSignInHtml + badSignInHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("Bearer", noSignInHtml + badSignInHtml, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(h, token, "maybe", DevToken(h, "bob"))).Status);
        Assert.Empty((await h.ApprovalAsync(approval)).GetProperty("decisions").EnumerateArray());
    }

    [Fact]
    public async Task A_link_of_a_closed_level_is_told_it_is_late()
    {
        var (h, _, approval) = await StartAsync();
        await using var _h = h;
        var bobLink = Token(await LinkAsync(h, approval, "bob"));
        await h.DecideAsync("bob", approval, "Approve");
        await h.DecideAsync("carol", approval, "Approve");
        Assert.Equal(1, (await h.ApprovalAsync(approval)).GetProperty("currentLevel").GetInt32());

        var (status, html) = await PostAsync(h, bobLink, "approve", DevToken(h, "bob"));
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("The level 'Owners' of CHG", WebUtility.HtmlDecode(html), StringComparison.Ordinal);
        Assert.Contains("closed before your answer", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Level 1", html, StringComparison.Ordinal);
        var page = await (await h.App.Client.GetAsync($"/api/approval-page?t={Uri.EscapeDataString(bobLink)}")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("name=\"decision\"", page, StringComparison.Ordinal);
    }
}
