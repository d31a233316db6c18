using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Itsm.Functions.Hosting;

/// <summary>
/// The app's address as people reach it, the start of every link it sends (approval prompts, the ticket page in Teams
/// replies): <c>Itsm:PublicBaseUrl</c> when set (behind a proxy, a custom domain); otherwise under the Functions host
/// the site's own name (<c>https://{WEBSITE_HOSTNAME}</c>), and standalone the address the app listens on.
/// </summary>
public sealed class PublicAddress(ItsmOptions options, IConfiguration configuration, HostInfo host, IServiceProvider services)
{
    public const string Setting = "Itsm:PublicBaseUrl";

    /// <summary>The earlier name of the setting, still honoured.</summary>
    public const string ApprovalsSetting = "Itsm:Approvals:PublicBaseUrl";

    private string? _resolved;

    /// <summary>The base URL without a trailing slash, e.g. <c>http://localhost:7071</c>.</summary>
    public string BaseUrl
    {
        get
        {
            if (_resolved is not null)
            {
                return _resolved;
            }

            if (Configured() is { } configured)
            {
                return _resolved = configured;
            }

            var derived = Derived(out var final);
            if (final)
            {
                _resolved = derived;
            }

            return derived;
        }
    }

    /// <summary>An absolute link to <paramref name="pathAndQuery"/> (which starts with '/').</summary>
    public string Link(string pathAndQuery) => BaseUrl + pathAndQuery;

    private string? Configured() =>
        (options.PublicBaseUrl is { Length: > 0 } url ? url : configuration[ApprovalsSetting] is { Length: > 0 } earlier ? earlier : null)?.TrimEnd('/');

    /// <summary>The address derived from the host; <paramref name="final"/> is false while the server has not bound yet (not cached then).</summary>
    private string Derived(out bool final)
    {
        final = true;
        if (host.Mode == HostMode.FunctionsHost)
        {
            return Environment.GetEnvironmentVariable("WEBSITE_HOSTNAME") is { Length: > 0 } site ? $"https://{site}" : "http://localhost:7071";
        }

        var listening = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (listening is null)
        {
            // Not bound yet (or an in-memory test server): the configured address, without caching it.
            final = false;
        }

        return Reachable(listening ?? options.Standalone.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "http://localhost:7071");
    }

    /// <summary>A wildcard listening address (all interfaces) is reached through localhost on this machine.</summary>
    private static string Reachable(string url)
    {
        var address = BindingAddress.Parse(url.TrimEnd('/'));
        var hostName = address.Host is "*" or "+" or "0.0.0.0" or "[::]" ? "localhost" : address.Host;
        var defaultPort = (address.Scheme == "http" && address.Port == 80) || (address.Scheme == "https" && address.Port == 443);
        var port = defaultPort ? "" : $":{address.Port}";
        return $"{address.Scheme}://{hostName}{port}{address.PathBase}".TrimEnd('/');
    }
}
