using Itsm.Functions.Security;
using Microsoft.Playwright;

namespace Itsm.Functions.Tests.Approvals;

/// <summary>
/// The approval page in headless Chromium (Debian's <c>chromium</c>, installed by <c>scripts/install-chromium.sh</c>)
/// on a phone-sized screen. The browser's requests to <c>http://itsm.test</c> are answered by the in-memory standalone
/// app, so the page, its form post and the orchestration behind it are the real ones.
/// </summary>
public class ApprovalPageBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";
    private const string Origin = "http://itsm.test";

    /// <summary>Installs Debian's chromium with the project's script when it is missing, so the README's test command works on a fresh machine.</summary>
    private static async Task EnsureChromiumAsync()
    {
        if (!File.Exists(Chromium))
        {
            var start = new System.Diagnostics.ProcessStartInfo("bash", [Path.Combine(Support.Repository.Root, "scripts", "install-chromium.sh")])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var install = System.Diagnostics.Process.Start(start)!;
            var output = install.StandardOutput.ReadToEndAsync();
            var errors = install.StandardError.ReadToEndAsync();
            await install.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
            Assert.True(install.ExitCode == 0, $"scripts/install-chromium.sh failed: {await output}{await errors}");
        }

        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/install-chromium.sh.");
    }

    [Fact]
    public async Task An_approver_opens_the_link_on_a_phone_sees_the_change_approves_and_the_change_moves_on()
    {
        await EnsureChromiumAsync();
        await using var h = await ApprovalHarness.StartAsync("""
            {"policies":[{"id":"cab","name":"Change advisory board","changeTypes":["Normal"],
              "levels":[{"name":"CAB","approvers":[{"kind":"User","id":"bob"}]}]}]}
            """, settings: new Dictionary<string, string?> { ["Itsm:PublicBaseUrl"] = Origin });
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);
        var link = (await h.PromptsAsync(approval)).Single().GetProperty("link").GetString()!;
        var token = DevTokens.Mint(AuthOptions.DefaultDevKeyPath(h.App.DatabasePath), "bob", [AppRoles.Approver], "contoso", now: h.App.Clock.GetUtcNow());

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 390, Height = 844 }, HasTouch = true });
        var page = await context.NewPageAsync();
        await page.RouteAsync(Origin + "/**", route => ForwardAsync(h, route));

        Assert.StartsWith(Origin + "/api/approval-page?t=", link, StringComparison.Ordinal);
        var opened = await page.GotoAsync(link);
        Assert.Equal(200, opened!.Status);
        Assert.Contains("Patch VPN gateway", await page.InnerTextAsync("h1"), StringComparison.Ordinal);
        Assert.Equal("Low (0)", await page.InnerTextAsync("#risk"));
        Assert.Equal("None found.", await page.InnerTextAsync("#conflicts"));
        Assert.True(await page.IsVisibleAsync("#approve"));
        var button = await page.Locator("#approve").BoundingBoxAsync();
        Assert.True(button!.Width >= 120 && button.X + button.Width <= 390, "The approve button fits a phone screen and is easy to tap.");

        await page.FillAsync("#comment", "Fine by me.");
        await page.FillAsync("#access_token", token);
        await page.ClickAsync("#approve");
        await page.WaitForSelectorAsync("#status");
        Assert.Contains("your approval of", await page.InnerTextAsync("#status"), StringComparison.Ordinal);

        // The answer decided the only level: the page says so at once, not "Pending" until the orchestration runs.
        Assert.Equal("Approved", await page.InnerTextAsync("#state"));

        await h.IdleAsync();
        Assert.Equal("Approved", await h.StateAsync(approval));
        Assert.Equal("Scheduled", await h.TicketStateAsync(change));
        var decision = (await h.ApprovalAsync(approval)).GetProperty("decisions")[0];
        Assert.Equal(("bob", "page", "Fine by me."), (decision.GetProperty("answeredBy").GetString(), decision.GetProperty("channel").GetString(), decision.GetProperty("comment").GetString()));
    }

    /// <summary>Sends the browser's request to the in-memory app and hands its answer back to the browser.</summary>
    private static async Task ForwardAsync(ApprovalHarness h, IRoute route)
    {
        var request = route.Request;
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Url[Origin.Length..]);
        if (request.PostDataBuffer is { } body)
        {
            message.Content = new ByteArrayContent(body);
            if (request.Headers.TryGetValue("content-type", out var type))
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", type);
            }
        }

        using var response = await h.App.Client.SendAsync(message);
        var headers = response.Headers.Concat(response.Content.Headers).ToDictionary(x => x.Key, x => string.Join(", ", x.Value), StringComparer.OrdinalIgnoreCase);
        await route.FulfillAsync(new RouteFulfillOptions { Status = (int)response.StatusCode, Headers = headers, BodyBytes = await response.Content.ReadAsByteArrayAsync() });
    }
}
