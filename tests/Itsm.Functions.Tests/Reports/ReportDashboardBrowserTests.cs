using System.Buffers.Binary;
using System.IO.Compression;
using System.Net.Http.Json;
using System.Text;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;
using Microsoft.Playwright;

namespace Itsm.Functions.Tests.Reports;

/// <summary>
/// The dashboard page in headless Chromium (Debian's <c>chromium</c>), answered by the in-memory standalone app: a
/// manager signs in with a dev token in the page's form and sees the charts, drawn and of the expected size; the
/// screenshot of a chart is not blank.
/// </summary>
public class ReportDashboardBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";
    private const string Origin = "http://itsm.test";

    [Fact]
    public async Task A_manager_signs_in_with_a_dev_token_and_sees_every_chart_drawn()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/install-chromium.sh.");
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("bob", "contoso", AppRoles.Agent);
        foreach (var (group, impact) in new[] { ("Network", 1), ("Service Desk", 2), ("Service Desk", 3) })
        {
            var created = await agent.PostAsync("/api/tickets", new StringContent($$"""{"type":"Incident","title":"VPN","impact":{{impact}},"urgency":{{impact}},"assignmentGroup":"{{group}}"}""", Encoding.UTF8, "application/json"));
            var id = (await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString();
            app.Clock.Advance(TimeSpan.FromMinutes(45));
            await agent.PostAsync($"/api/tickets/{id}/actions/resolve", new StringContent("""{"resolutionCode":"Fixed","resolutionNotes":"Done."}""", Encoding.UTF8, "application/json"));
        }

        var token = DevTokens.Mint(AuthOptions.DefaultDevKeyPath(app.DatabasePath), "carol", [AppRoles.ChangeManager], "contoso", name: "Carol", now: app.Clock.GetUtcNow());
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } });
        var page = await context.NewPageAsync();
        await page.RouteAsync(Origin + "/**", route => ForwardAsync(app, route));

        var opened = await page.GotoAsync(Origin + "/api/reports-dashboard");
        Assert.Equal(200, opened!.Status);
        Assert.Equal(0, await page.Locator("svg").CountAsync());
        await page.FillAsync("#access_token", token);
        await page.ClickAsync("#show");
        await page.WaitForSelectorAsync("#chart-volume svg");

        Assert.Equal("Service dashboard", await page.InnerTextAsync("h1"));
        Assert.Contains("signed in as Carol", await page.InnerTextAsync("#range"), StringComparison.Ordinal);
        foreach (var id in new[] { "chart-volume", "chart-backlog", "chart-backlog-age", "chart-mtta", "chart-mttr", "chart-sla", "chart-mttr-group", "chart-changes" })
        {
            var box = await page.Locator($"#{id} svg").BoundingBoxAsync();
            Assert.True(box is { Width: 760, Height: 380 }, $"{id} is drawn at 760 x 380 (was {box?.Width} x {box?.Height}).");
            Assert.True(await page.Locator($"#{id} svg #chart-title").IsVisibleAsync(), $"{id} has a visible title.");
            Assert.True(await page.Locator($"#{id} svg .legend").CountAsync() > 0, $"{id} has a legend.");
        }

        // Lines for the trends, bars for the breakdowns, where there is data.
        Assert.True(await page.Locator("#chart-volume polyline.series").CountAsync() == 2);
        Assert.True(await page.Locator("#chart-mttr-group rect.bar").CountAsync() >= 2);

        var png = await page.Locator("#chart-mttr-group svg").ScreenshotAsync();
        var (width, height, coloured, distinct) = Png.Inspect(png);
        Assert.True(Math.Abs(width - 760) <= 2 && Math.Abs(height - 380) <= 2, $"The screenshot is the chart's size (was {width} x {height}).");
        Assert.True(coloured > 2_000, $"The chart's screenshot shows the bars and text ({coloured} non-white pixels).");
        Assert.True(distinct >= 3, $"The chart's screenshot has several colours ({distinct}).");
    }

    [Fact]
    public async Task A_requester_gets_a_403_page_and_a_bad_token_a_401_page()
    {
        await using var app = await StandaloneApp.StartAsync();
        var requester = app.As("ana");

        var page = await requester.GetAsync("/api/reports-dashboard");
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, page.StatusCode);
        Assert.Contains("for agents", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var bad = await app.Client.PostAsync("/api/reports-dashboard", new FormUrlEncodedContent(new Dictionary<string, string> { ["access_token"] = "nonsense" }));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, bad.StatusCode);
        Assert.Equal("text/html", bad.Content.Headers.ContentType!.MediaType);
    }

    private static async Task ForwardAsync(StandaloneApp app, IRoute route)
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

        using var response = await app.Client.SendAsync(message);
        var headers = response.Headers.Concat(response.Content.Headers).ToDictionary(x => x.Key, x => string.Join(", ", x.Value), StringComparer.OrdinalIgnoreCase);
        await route.FulfillAsync(new RouteFulfillOptions { Status = (int)response.StatusCode, Headers = headers, BodyBytes = await response.Content.ReadAsByteArrayAsync() });
    }
}

/// <summary>Reads a PNG screenshot (8-bit RGB or RGBA, as Chromium writes them): size, non-white pixels, distinct colours.</summary>
internal static class Png
{
    public static (int Width, int Height, int NonWhite, int Distinct) Inspect(byte[] png)
    {
        var width = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16));
        var height = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20));
        var channels = png[25] switch { 2 => 3, 6 => 4, _ => throw new InvalidDataException($"Colour type {png[25]} is not RGB(A).") };
        Assert.Equal(8, png[24]);
        using var idat = new MemoryStream();
        for (var offset = 8; offset < png.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(offset));
            var type = Encoding.ASCII.GetString(png, offset + 4, 4);
            if (type == "IDAT")
            {
                idat.Write(png, offset + 8, length);
            }

            offset += 12 + length;
        }

        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionMode.Decompress))
        {
            zlib.CopyTo(inflated);
        }

        var data = inflated.ToArray();
        var stride = width * channels;
        var previous = new byte[stride];
        var current = new byte[stride];
        var nonWhite = 0;
        var colours = new HashSet<int>();
        for (var y = 0; y < height; y++)
        {
            var filter = data[y * (stride + 1)];
            Array.Copy(data, (y * (stride + 1)) + 1, current, 0, stride);
            for (var x = 0; x < stride; x++)
            {
                int a = x >= channels ? current[x - channels] : 0, b = previous[x], c = x >= channels ? previous[x - channels] : 0;
                current[x] = (byte)(current[x] + filter switch
                {
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => 0,
                });
            }

            for (var x = 0; x < stride; x += channels)
            {
                var rgb = (current[x] << 16) | (current[x + 1] << 8) | current[x + 2];
                colours.Add(rgb);
                nonWhite += rgb == 0xFFFFFF ? 0 : 1;
            }

            (previous, current) = (current, previous);
        }

        return (width, height, nonWhite, colours.Count);
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
