using System.Net;
using System.Text;
using Itsm.Functions.Security;

namespace Itsm.Functions.Tests.Approvals;

/// <summary>
/// The approval page behind App Service Authentication, as in Azure: an approver opening the link from Outlook or
/// Teams signs in with the work account and answers; the platform's principal header names them. The standalone app
/// forces platform authentication off at start (nothing strips the header there), so these tests switch it on after
/// start, as the deployment's <c>Itsm__Auth__PlatformAuthenticationEnabled</c> does.
/// </summary>
public class ApprovalPagePlatformSignInTests
{
    private const string Settings = """
        {"policies":[{"id":"cab","name":"CAB","changeTypes":["Normal"],
          "levels":[{"name":"Owners","approvers":[{"kind":"User","id":"bob"},{"kind":"User","id":"carol"}],"rule":"All"}]}]}
        """;

    private static async Task<(ApprovalHarness H, string Approval, string Token)> StartAsync(bool platformAuthentication)
    {
        var h = await ApprovalHarness.StartAsync(Settings);
        h.App.Services.GetRequiredService<AuthOptions>().PlatformAuthenticationEnabled = platformAuthentication;
        var approval = await h.ApprovalIdAsync(await h.SubmitChangeAsync());
        var link = (await h.PromptsAsync(approval)).Single(p => p.GetProperty("recipient").GetString() == "bob").GetProperty("link").GetString()!;
        return (h, approval, Uri.UnescapeDataString(link[(link.IndexOf("?t=", StringComparison.Ordinal) + 3)..]));
    }

    /// <summary>The header as App Service builds it for an Entra sign-in: claim types after its default mapping.</summary>
    private static string Principal(string objectId, string tenantId = "contoso", string name = "Bob Builder") =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($$"""
            {"auth_typ":"aad","claims":[
              {"typ":"http://schemas.microsoft.com/identity/claims/objectidentifier","val":"{{objectId}}"},
              {"typ":"http://schemas.microsoft.com/identity/claims/tenantid","val":"{{tenantId}}"},
              {"typ":"name","val":"{{name}}"},
              {"typ":"roles","val":"Itsm.Admin"}],
             "name_typ":"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress","role_typ":"http://schemas.microsoft.com/ws/2008/06/identity/claims/role"}
            """));

    private static async Task<(HttpStatusCode Status, string Html)> SendAsync(ApprovalHarness h, HttpMethod method, string token, string? principal)
    {
        using var request = method == HttpMethod.Get
            ? new HttpRequestMessage(method, $"/api/approval-page?t={Uri.EscapeDataString(token)}")
            : new HttpRequestMessage(method, "/api/approval-page") { Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["t"] = token, ["decision"] = "approve" }) };
        if (principal is not null)
        {
            request.Headers.Add(PlatformPrincipal.Header, principal);
        }

        var response = await h.App.Client.SendAsync(request);
        await h.IdleAsync();
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_approver_not_yet_signed_in_is_offered_the_work_account_sign_in_that_returns_to_the_link()
    {
        var (h, approval, token) = await StartAsync(platformAuthentication: true);
        await using var _ = h;

        var (status, html) = await SendAsync(h, HttpMethod.Get, token, principal: null);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("id=\"sign-in\"", html, StringComparison.Ordinal);
        Assert.Contains(WebUtility.HtmlEncode(PlatformPrincipal.LoginPath($"/api/approval-page?t={Uri.EscapeDataString(token)}")), html, StringComparison.Ordinal);
        Assert.DoesNotContain("name=\"decision\"", html, StringComparison.Ordinal);
        Assert.Equal("Pending", await h.StateAsync(approval));
    }

    [Fact]
    public async Task The_signed_in_recipient_answers_from_the_browser_without_a_token()
    {
        var (h, approval, token) = await StartAsync(platformAuthentication: true);
        await using var _ = h;

        var (_, page) = await SendAsync(h, HttpMethod.Get, token, Principal("bob"));
        Assert.Contains("Signed in as Bob Builder", page, StringComparison.Ordinal);
        Assert.DoesNotContain("access_token", page, StringComparison.Ordinal);

        var (status, html) = await SendAsync(h, HttpMethod.Post, token, Principal("bob"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("is recorded", html, StringComparison.Ordinal);
        var decision = Assert.Single((await h.ApprovalAsync(approval)).GetProperty("decisions").EnumerateArray());
        Assert.Equal(("bob", "page"), (decision.GetProperty("answeredBy").GetString(), decision.GetProperty("channel").GetString()));
    }

    [Theory]
    [InlineData("carol", "contoso", HttpStatusCode.Forbidden)] // another approver signed in with bob's link
    [InlineData("bob", "fabrikam", HttpStatusCode.Forbidden)] // the same object id in another tenant
    [InlineData(null, null, HttpStatusCode.Unauthorized)] // not signed in
    public async Task Someone_other_than_the_recipient_or_nobody_signed_in_changes_nothing(string? user, string? tenant, HttpStatusCode expected)
    {
        var (h, approval, token) = await StartAsync(platformAuthentication: true);
        await using var _ = h;

        var (status, _) = await SendAsync(h, HttpMethod.Post, token, user is null ? null : Principal(user, tenant!));

        Assert.Equal(expected, status);
        Assert.Empty((await h.ApprovalAsync(approval)).GetProperty("decisions").EnumerateArray());
    }

    [Theory]
    [InlineData("not base64 at all")]
    [InlineData("eyJjbGFpbXMiOjQyfQ==")] // {"claims":42}
    [InlineData("e30=")] // {}
    public async Task A_malformed_principal_header_is_not_a_sign_in(string header)
    {
        var (h, approval, token) = await StartAsync(platformAuthentication: true);
        await using var _ = h;

        var (status, _) = await SendAsync(h, HttpMethod.Post, token, header);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Empty((await h.ApprovalAsync(approval)).GetProperty("decisions").EnumerateArray());
    }

    [Fact]
    public async Task Without_App_Service_Authentication_in_front_the_principal_header_is_never_believed()
    {
        var (h, approval, token) = await StartAsync(platformAuthentication: false);
        await using var _ = h;

        var (status, html) = await SendAsync(h, HttpMethod.Post, token, Principal("bob"));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.DoesNotContain("id=\"sign-in\"", html, StringComparison.Ordinal);
        Assert.Empty((await h.ApprovalAsync(approval)).GetProperty("decisions").EnumerateArray());
    }
}
