using Itsm.Functions.Notifications;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;
using Microsoft.Playwright;

namespace Itsm.Functions.Tests.Surveys;

/// <summary>
/// The survey page in headless Chromium (Debian's <c>chromium</c>) on a phone-sized screen; the browser's requests to
/// <c>http://itsm.test</c> are answered by the in-memory standalone app, as in the approval page's browser test.
/// </summary>
public class SurveyPageBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task A_requester_opens_the_invitation_on_a_phone_rates_five_and_the_link_is_then_used_up()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/install-chromium.sh.");
        await using var app = await SurveyApiTests.StartAsync();
        await SurveyApiTests.EnableAsync(app);
        var ticket = await SurveyApiTests.ResolvedTicketAsync(app);
        var link = Assert.Single(await SurveyApiTests.OutboxAsync(app, NotificationEventKinds.SurveyInvited)).Link!;

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 390, Height = 844 }, HasTouch = true });
        var page = await context.NewPageAsync();
        await page.RouteAsync(SurveyApiTests.Origin + "/**", route => ForwardAsync(app, route));

        var opened = await page.GotoAsync(link);
        Assert.Equal(200, opened!.Status);
        Assert.Contains("VPN drops", await page.InnerTextAsync("h1"), StringComparison.Ordinal);
        Assert.Equal("sam", await page.InnerTextAsync("#agent"));
        var send = await page.Locator("#submit").BoundingBoxAsync();
        Assert.True(send!.Width >= 120 && send.X + send.Width <= 390, "The send button fits a phone screen and is easy to tap.");

        // The browser refuses to send without a rating (the field is required).
        await page.ClickAsync("#submit");
        Assert.Equal(link, page.Url);

        await page.CheckAsync("#rating-5");
        await page.FillAsync("#comment", "Fixed in minutes.");
        await page.ClickAsync("#submit");
        await page.WaitForSelectorAsync("#status");
        Assert.Contains("5 out of 5", await page.InnerTextAsync("#status"), StringComparison.Ordinal);

        var again = await page.GotoAsync(link);
        Assert.Equal(409, again!.Status);
        Assert.Contains("already answered", await page.InnerTextAsync("#status"), StringComparison.Ordinal);

        var survey = await (await app.As("sam", "contoso", AppRoles.Agent).GetAsync($"/api/tickets/{ticket}/survey")).Content.ReadAsStringAsync();
        Assert.Contains("\"rating\":5", survey, StringComparison.Ordinal);
        Assert.Contains("Fixed in minutes.", survey, StringComparison.Ordinal);
    }

    private static async Task ForwardAsync(StandaloneApp app, IRoute route)
    {
        var request = route.Request;
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Url[SurveyApiTests.Origin.Length..]);
        if (request.PostDataBuffer is { } body)
        {
            message.Content = new ByteArrayContent(body);
            if (request.Headers.TryGetValue("content-type", out var type))
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", type);
            }
        }

        using var response = await app.Client.SendAsync(message);
        var headers = response.Headers.Concat(response.Content.Headers).ToDictionary(x => x.Key, x => string.Join(", ", x.Value), StringComparer.OrdinalIgnoreCase);
        await route.FulfillAsync(new RouteFulfillOptions { Status = (int)response.StatusCode, Headers = headers, BodyBytes = await response.Content.ReadAsByteArrayAsync() });
    }
}
