using System.Net;

namespace Itsm.Functions.Hosting;

/// <summary>
/// The small server-rendered pages people open from a link (the approval page, the ticket page): phone-sized, no
/// script, never cached, never framed, a strict content security policy.
/// </summary>
public static class HtmlPage
{
    /// <summary>The phone-sized style of the pages people answer from a link (approval, survey).</summary>
    public const string FormStyle = """
        body{font-family:system-ui,sans-serif;max-width:36rem;margin:0 auto;padding:1rem;line-height:1.4}
        dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}dt{font-weight:600}
        label{display:block;margin-top:.75rem}textarea,input{width:100%;box-sizing:border-box;font-size:1rem;padding:.5rem}
        .buttons{display:flex;gap:.75rem;margin-top:1rem}button{flex:1;font-size:1.1rem;padding:.8rem;border:0;border-radius:.4rem;color:#fff}
        .approve{background:#1a7f37}.reject{background:#b42318}.notice{background:#fff4e5;padding:.75rem}.done{background:#e6f4ea;padding:.75rem}
        """;

    /// <summary>A page with these security headers; <paramref name="style"/> is its inline stylesheet (<see cref="FormStyle"/> unless given).</summary>
    public static HttpResponseOutput Render(int status, string title, string body, string style = FormStyle) =>
        new(status, new Dictionary<string, string>
        {
            ["Content-Type"] = "text/html; charset=utf-8",
            ["Cache-Control"] = "no-store",
            ["Referrer-Policy"] = "no-referrer",
            ["X-Frame-Options"] = "DENY",
            ["X-Content-Type-Options"] = "nosniff",
            ["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        }, $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex"><title>{WebUtility.HtmlEncode(title)}</title>
            <style>{style}</style>
            </head><body>{body}</body></html>
            """);

}
