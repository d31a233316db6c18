using Itsm.Durable.Client;

namespace Itsm.Functions.Hosting.Durable;

/// <summary>
/// Gives an HTTP function its <see cref="IDurableClient"/>: under the Functions host, the HTTP management
/// API described by the function's <c>durableClient</c> binding value; standalone, the embedded engine.
/// </summary>
public sealed class DurableClientResolver(HostInfo host, IServiceProvider services, IConfiguration configuration)
{
    private static readonly HttpClient ManagementHttp = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    public IDurableClient Resolve(FunctionInvocation invocation)
    {
        var binding = invocation.Function.Bindings.OfType<DurableClientBinding>().FirstOrDefault()
            ?? throw new InvalidOperationException($"Function '{invocation.Function.Name}' declares no durableClient binding.");
        if (host.Mode == HostMode.Standalone)
        {
            return services.GetRequiredService<IDurableClient>();
        }

        if (!invocation.Request.Data.TryGetValue(binding.Name, out var raw))
        {
            throw new EnvelopeFormatException($"Data has no '{binding.Name}' durable client value.");
        }

        var value = DurableClientBindingValue.Parse(InvocationEnvelope.DecodeString(raw), configuration["WEBSITE_HOSTNAME"]);
        return new DurableHttpManagementClient(ManagementHttp, value);
    }
}
