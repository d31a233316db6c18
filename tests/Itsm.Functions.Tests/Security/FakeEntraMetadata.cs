using System.Net;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Itsm.Functions.Tests.Security;

/// <summary>
/// Entra ID's discovery endpoints for one tenant, as an HTTP handler: the v2.0 OpenID Connect metadata document and
/// the JWKS it points to, publishing whichever keys the test chooses. Counts the requests.
/// </summary>
public sealed class FakeEntraMetadata(string tenantId) : HttpMessageHandler
{
    private readonly object _gate = new();
    private IReadOnlyList<RsaSecurityKey> _published = [];

    public string MetadataAddress => $"https://login.microsoftonline.com/{tenantId}/v2.0/.well-known/openid-configuration";

    public string JwksAddress => $"https://login.microsoftonline.com/{tenantId}/discovery/v2.0/keys";

    public int MetadataRequests { get; private set; }

    public int JwksRequests { get; private set; }

    public void Publish(params RsaSecurityKey[] keys)
    {
        lock (_gate)
        {
            _published = keys;
        }
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var address = request.RequestUri!.AbsoluteUri;
        lock (_gate)
        {
            if (address == MetadataAddress)
            {
                MetadataRequests++;
                return Json(new Dictionary<string, object>
                {
                    ["issuer"] = $"https://login.microsoftonline.com/{tenantId}/v2.0",
                    ["authorization_endpoint"] = $"https://login.microsoftonline.com/{tenantId}/oauth2/v2.0/authorize",
                    ["token_endpoint"] = $"https://login.microsoftonline.com/{tenantId}/oauth2/v2.0/token",
                    ["jwks_uri"] = JwksAddress,
                    ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
                    ["tenant_region_scope"] = "EU",
                });
            }

            if (address == JwksAddress)
            {
                JwksRequests++;
                return Json(new Dictionary<string, object>
                {
                    ["keys"] = _published.Select(key =>
                    {
                        var parameters = key.Rsa.ExportParameters(includePrivateParameters: false);
                        return new Dictionary<string, string>
                        {
                            ["kty"] = "RSA",
                            ["use"] = "sig",
                            ["kid"] = key.KeyId,
                            ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
                            ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
                        };
                    }).ToArray(),
                });
            }
        }

        return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound));
    }

    private static Task<HttpResponseMessage> Json(object body) =>
        Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json") });
}
