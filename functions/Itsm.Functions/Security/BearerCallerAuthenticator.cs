namespace Itsm.Functions.Security;

/// <summary>
/// The caller of an API route, from the <c>Authorization: Bearer</c> header and nothing else: platform principal
/// headers (<c>X-MS-CLIENT-PRINCIPAL</c> and friends) are never read here, whoever set them.
/// </summary>
public sealed class BearerCallerAuthenticator(BearerTokenValidator validator) : ICallerAuthenticator
{
    /// <summary>Far above any real access token (Entra tokens are a few kilobytes); refuses junk before parsing it.</summary>
    public const int MaxTokenLength = 16 * 1024;

    public Task<AuthenticationResult> AuthenticateAsync(string? authorizationHeader, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(authorizationHeader))
        {
            return Task.FromResult(AuthenticationResult.Fail("No bearer token: send 'Authorization: Bearer <token>'."));
        }

        var header = authorizationHeader.Trim();
        var space = header.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0 || !header[..space].Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticationResult.Fail("The Authorization header must use the Bearer scheme: 'Authorization: Bearer <token>'."));
        }

        var token = header[(space + 1)..].Trim();
        if (token.Length == 0)
        {
            return Task.FromResult(AuthenticationResult.Fail("The Authorization header has no token after 'Bearer'."));
        }

        if (token.Length > MaxTokenLength || token.Any(c => char.IsWhiteSpace(c) || c > '~' || c < '!'))
        {
            return Task.FromResult(AuthenticationResult.Fail("The bearer token is not a well-formed JWT."));
        }

        return validator.ValidateAsync(token, cancellationToken);
    }
}
