using System.Text;
using System.Text.Json;

namespace Itsm.Functions.Security;

/// <summary>
/// The person App Service Authentication signed in, from the <c>X-MS-CLIENT-PRINCIPAL</c> header it adds (base64
/// JSON: <c>{auth_typ, claims: [{typ, val}], name_typ, role_typ}</c>). The platform strips that header from incoming
/// requests, so it can be believed only while the platform's authentication is on in front of the app
/// (<see cref="AuthOptions.PlatformAuthenticationEnabled"/>); only the browser-facing approval page reads it, never
/// an API route (see docs/architecture.md). The claims carry Entra's mapped names (the long URIs for oid and tid).
/// </summary>
public static class PlatformPrincipal
{
    public const string Header = "X-MS-CLIENT-PRINCIPAL";

    /// <summary>Where the page sends someone to sign in; the platform brings them back to <paramref name="returnPath"/>.</summary>
    public static string LoginPath(string returnPath) => "/.auth/login/aad?post_login_redirect_uri=" + Uri.EscapeDataString(returnPath);

    private static readonly string[] ObjectId = ["http://schemas.microsoft.com/identity/claims/objectidentifier", "oid"];
    private static readonly string[] TenantId = ["http://schemas.microsoft.com/identity/claims/tenantid", "tid"];
    private static readonly string[] Name = ["name"];
    private static readonly string[] Email = ["preferred_username", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "email"];

    /// <summary>The signed-in caller, or why there is none (platform authentication off, no header, a header without a user or an allowed tenant).</summary>
    public static AuthenticationResult Read(string? header, AuthOptions options)
    {
        if (!options.PlatformAuthenticationEnabled)
        {
            return AuthenticationResult.Fail("no sign-in (App Service Authentication is not in front of this app)");
        }

        if (string.IsNullOrWhiteSpace(header))
        {
            return AuthenticationResult.Fail("not signed in");
        }

        Dictionary<string, string> claims;
        try
        {
            using var json = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(header.Trim())));
            claims = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var claim in json.RootElement.GetProperty("claims").EnumerateArray())
            {
                if (claim.TryGetProperty("typ", out var typ) && claim.TryGetProperty("val", out var val) && typ.ValueKind == JsonValueKind.String && val.ValueKind == JsonValueKind.String)
                {
                    claims.TryAdd(typ.GetString()!, val.GetString()!);
                }
            }
        }
        catch (Exception ex) when (ex is FormatException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return AuthenticationResult.Fail("the sign-in could not be read");
        }

        string? First(string[] types) => types.Select(t => claims.GetValueOrDefault(t)).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
        var tenant = First(TenantId);
        var user = First(ObjectId);
        if (tenant is null || user is null)
        {
            return AuthenticationResult.Fail("the sign-in names no user and tenant");
        }

        var allowed = options.Tenants();
        if (allowed.Count > 0 && !allowed.Contains(tenant, StringComparer.OrdinalIgnoreCase))
        {
            return AuthenticationResult.Fail("your organisation may not use this app");
        }

        // Roles are not read: the page decides only for the person a link was sent to, whatever their roles.
        return AuthenticationResult.Success(new CallerPrincipal(tenant, user, First(Name), First(Email), new HashSet<string>()));
    }
}
