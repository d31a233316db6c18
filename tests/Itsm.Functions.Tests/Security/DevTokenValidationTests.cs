using System.Security.Cryptography;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;
using Microsoft.IdentityModel.Tokens;

namespace Itsm.Functions.Tests.Security;

/// <summary>Standalone mode: dev tokens through the same validation path as Entra ID tokens.</summary>
public sealed class DevTokenValidationTests
{
    private static readonly DateTimeOffset Now = StandaloneApp.Epoch;

    private readonly string _keyPath = Path.Combine(TempDirectory.Create(), "dev-signing-key.json");
    private readonly FakeTimeProvider _clock = new(Now);

    private ICallerAuthenticator Authenticator(Action<AuthOptions>? configure = null)
    {
        var options = new AuthOptions { Mode = AuthMode.DevTokens, DevKeyPath = _keyPath };
        configure?.Invoke(options);
        return new BearerCallerAuthenticator(BearerTokenValidator.Create(options, _clock));
    }

    private Task<AuthenticationResult> AuthenticateAsync(string token, Action<AuthOptions>? configure = null) =>
        Authenticator(configure).AuthenticateAsync("Bearer " + token, CancellationToken.None);

    private string Mint(string user = "ana", string[]? roles = null, string tenant = "local", TimeSpan? lifetime = null, DateTimeOffset? now = null) =>
        DevTokens.Mint(_keyPath, user, roles, tenant, name: "Ana Silva", email: "ana@contoso.com", lifetime: lifetime, now: now ?? Now);

    private static void AssertFails(AuthenticationResult result, string reasonFragment)
    {
        Assert.False(result.Succeeded);
        Assert.Null(result.Caller);
        Assert.Contains(reasonFragment, result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_valid_dev_token_yields_the_caller_with_tenant_user_name_email_and_roles()
    {
        var result = await AuthenticateAsync(Mint(roles: [AppRoles.Agent, AppRoles.Admin], tenant: "contoso"));

        Assert.True(result.Succeeded, result.Failure);
        var caller = result.Caller!;
        Assert.Equal("contoso", caller.TenantId);
        Assert.Equal("ana", caller.UserId);
        Assert.Equal("Ana Silva", caller.Name);
        Assert.Equal("ana@contoso.com", caller.Email);
        Assert.Equal([AppRoles.Admin, AppRoles.Agent], caller.Roles.Order(StringComparer.Ordinal));
        Assert.True(caller.IsAgent);
        Assert.True(caller.IsAdmin);
    }

    [Fact]
    public async Task A_token_without_app_roles_is_a_requester()
    {
        var result = await AuthenticateAsync(Mint());

        Assert.True(result.Succeeded, result.Failure);
        Assert.Equal([AppRoles.Requester], result.Caller!.Roles);
        Assert.False(result.Caller.IsAgent);
    }

    [Fact]
    public async Task Roles_that_are_not_the_apps_own_are_ignored()
    {
        var key = DevSigningKey.LoadOrCreate(_keyPath);
        var claims = TestJwt.UserClaims("local", "ana", "Itsm.Superuser", AppRoles.Approver, "Global.Admin");
        var result = await AuthenticateAsync(TestJwt.Sign(key.Key, DevTokens.Issuer, DevTokens.Audience, claims, Now, Now.AddHours(1)));

        Assert.True(result.Succeeded, result.Failure);
        Assert.Equal([AppRoles.Approver], result.Caller!.Roles);
    }

    [Fact]
    public async Task Only_unknown_roles_make_a_requester()
    {
        var key = DevSigningKey.LoadOrCreate(_keyPath);
        var claims = TestJwt.UserClaims("local", "ana", "Itsm.Superuser");
        var result = await AuthenticateAsync(TestJwt.Sign(key.Key, DevTokens.Issuer, DevTokens.Audience, claims, Now, Now.AddHours(1)));

        Assert.Equal([AppRoles.Requester], result.Caller!.Roles);
    }

    [Fact]
    public async Task An_expired_token_fails_once_the_clock_skew_has_passed()
    {
        var token = Mint(lifetime: TimeSpan.FromHours(1));
        var authenticator = Authenticator();

        _clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1));
        Assert.True((await authenticator.AuthenticateAsync("Bearer " + token, CancellationToken.None)).Succeeded);

        _clock.Advance(TimeSpan.FromMinutes(1));
        AssertFails(await authenticator.AuthenticateAsync("Bearer " + token, CancellationToken.None), "The token expired at 2026-03-02 09:00:00Z.");
    }

    [Fact]
    public async Task A_token_that_is_not_yet_valid_fails()
    {
        var result = await AuthenticateAsync(Mint(now: Now.AddMinutes(10)));

        AssertFails(result, "The token is not valid before 2026-03-02 08:10:00Z.");
    }

    [Fact]
    public async Task A_token_valid_within_the_configured_clock_skew_passes()
    {
        var result = await AuthenticateAsync(Mint(now: Now.AddMinutes(10)), o => o.ClockSkew = TimeSpan.FromMinutes(10));

        Assert.True(result.Succeeded, result.Failure);
    }

    [Fact]
    public async Task A_token_for_another_audience_fails()
    {
        var key = DevSigningKey.LoadOrCreate(_keyPath);
        var token = TestJwt.Sign(key.Key, DevTokens.Issuer, "api://some-other-api", TestJwt.UserClaims("local", "ana"), Now, Now.AddHours(1));

        AssertFails(await AuthenticateAsync(token), "audience");
    }

    [Fact]
    public async Task A_token_from_another_issuer_fails()
    {
        var key = DevSigningKey.LoadOrCreate(_keyPath);
        var token = TestJwt.Sign(key.Key, "https://evil.example/dev", DevTokens.Audience, TestJwt.UserClaims("local", "ana"), Now, Now.AddHours(1));

        AssertFails(await AuthenticateAsync(token), "issuer is not trusted");
    }

    [Fact]
    public async Task A_token_whose_payload_was_changed_after_signing_fails()
    {
        var token = Mint();
        var payload = TestJwt.Payload(token).ToDictionary(p => p.Key, p => (object)p.Value);
        payload["roles"] = new[] { AppRoles.Admin };

        AssertFails(await AuthenticateAsync(TestJwt.ReplacePayload(token, payload)), "signature is invalid");
    }

    [Fact]
    public async Task A_token_signed_by_another_key_with_the_trusted_key_id_fails()
    {
        var trusted = DevSigningKey.LoadOrCreate(_keyPath);
        var impostor = TestJwt.NewRsaKey(trusted.KeyId);
        var token = TestJwt.Sign(impostor, DevTokens.Issuer, DevTokens.Audience, TestJwt.UserClaims("local", "ana", AppRoles.Admin), Now, Now.AddHours(1));

        AssertFails(await AuthenticateAsync(token), "signature is invalid");
    }

    [Fact]
    public async Task A_token_signed_by_an_unknown_key_fails()
    {
        Mint();
        var stranger = TestJwt.NewRsaKey("stranger");
        var token = TestJwt.Sign(stranger, DevTokens.Issuer, DevTokens.Audience, TestJwt.UserClaims("local", "ana"), Now, Now.AddHours(1));

        AssertFails(await AuthenticateAsync(token), "key this API does not trust");
    }

    [Fact]
    public async Task An_unsigned_token_with_alg_none_fails()
    {
        var payload = TestJwt.Payload(Mint(roles: [AppRoles.Admin]));
        var token = TestJwt.Compose(new { alg = "none", typ = "JWT" }, payload);

        AssertFails(await AuthenticateAsync(token), "'none'; only RS256 is accepted");
    }

    [Fact]
    public async Task A_token_signed_with_HMAC_over_the_public_key_bytes_fails()
    {
        var minted = Mint(roles: [AppRoles.Admin]);
        var key = DevSigningKey.LoadOrCreate(_keyPath);
        var publicKeyBytes = key.Key.Rsa.ExportSubjectPublicKeyInfo();
        var token = TestJwt.Compose(
            new { alg = "HS256", typ = "JWT", kid = key.KeyId },
            TestJwt.Payload(minted),
            input => HMACSHA256.HashData(publicKeyBytes, input));

        AssertFails(await AuthenticateAsync(token), "'HS256'; only RS256 is accepted");
    }

    [Fact]
    public async Task A_token_from_a_tenant_that_is_not_allowed_fails()
    {
        void OnlyContoso(AuthOptions o)
        {
            o.TenantId = "contoso";
            o.AllowedTenants = "northwind";
        }

        Assert.True((await AuthenticateAsync(Mint(tenant: "contoso"), OnlyContoso)).Succeeded);
        Assert.True((await AuthenticateAsync(Mint(tenant: "northwind"), OnlyContoso)).Succeeded);
        AssertFails(await AuthenticateAsync(Mint(tenant: "fabrikam"), OnlyContoso), "Tenant 'fabrikam' is not allowed to call this API.");
    }

    [Fact]
    public async Task Without_a_configured_tenant_dev_tokens_of_any_tenant_pass()
    {
        Assert.Equal("fabrikam", (await AuthenticateAsync(Mint(tenant: "fabrikam"))).Caller!.TenantId);
    }

    [Fact]
    public async Task A_token_without_tenant_id_fails()
    {
        var key = DevSigningKey.LoadOrCreate(_keyPath);
        var token = TestJwt.Sign(key.Key, DevTokens.Issuer, DevTokens.Audience, new Dictionary<string, object> { ["oid"] = "ana" }, Now, Now.AddHours(1));

        AssertFails(await AuthenticateAsync(token), "no tenant id (tid)");
    }

    [Fact]
    public async Task A_token_without_expiry_fails()
    {
        var key = DevSigningKey.LoadOrCreate(_keyPath);
        var payload = new Dictionary<string, object> { ["iss"] = DevTokens.Issuer, ["aud"] = DevTokens.Audience, ["tid"] = "local", ["oid"] = "ana" };
        var token = TestJwt.Compose(new { alg = "RS256", typ = "JWT", kid = key.KeyId }, payload, input => key.Key.Rsa.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

        AssertFails(await AuthenticateAsync(token), "no expiry (exp)");
    }

    [Fact]
    public async Task An_app_only_token_without_oid_is_identified_by_its_subject()
    {
        var key = DevSigningKey.LoadOrCreate(_keyPath);
        var claims = new Dictionary<string, object> { ["tid"] = "local", ["sub"] = "integration-app", ["roles"] = new[] { AppRoles.Agent } };
        var result = await AuthenticateAsync(TestJwt.Sign(key.Key, DevTokens.Issuer, DevTokens.Audience, claims, Now, Now.AddHours(1)));

        Assert.Equal("integration-app", result.Caller!.UserId);
        Assert.Null(result.Caller.Email);
    }

    [Theory]
    [InlineData(null, "No bearer token")]
    [InlineData("", "No bearer token")]
    [InlineData("   ", "No bearer token")]
    [InlineData("Basic YW5hOnNlY3JldA==", "must use the Bearer scheme")]
    [InlineData("Bearer", "must use the Bearer scheme")]
    [InlineData("Bearer    ", "must use the Bearer scheme")]
    [InlineData("Bearer not-a-jwt", "not a well-formed JWT")]
    [InlineData("Bearer a.b.c", "not a well-formed JWT")]
    [InlineData("Bearer eyJhbGciOiJSUzI1NiJ9.%%%.sig", "not a well-formed JWT")]
    [InlineData("Bearer two tokens", "not a well-formed JWT")]
    public async Task A_missing_or_garbled_authorization_header_fails_with_a_reason(string? header, string reason)
    {
        var result = await Authenticator().AuthenticateAsync(header, CancellationToken.None);

        AssertFails(result, reason);
    }

    [Fact]
    public async Task The_scheme_name_is_case_insensitive()
    {
        var result = await Authenticator().AuthenticateAsync("bearer " + Mint(), CancellationToken.None);

        Assert.True(result.Succeeded, result.Failure);
    }

    [Fact]
    public async Task The_key_is_created_on_first_use_readable_by_the_owner_only_and_reused_afterwards()
    {
        var authenticator = Authenticator();
        Assert.False(File.Exists(_keyPath));

        var token = Mint();

        Assert.True(File.Exists(_keyPath));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_keyPath));
        }

        Assert.True((await authenticator.AuthenticateAsync("Bearer " + token, CancellationToken.None)).Succeeded);
        Assert.True((await Authenticator().AuthenticateAsync("Bearer " + Mint(user: "ben"), CancellationToken.None)).Succeeded);
    }

    [Fact]
    public async Task A_token_from_another_dev_key_fails()
    {
        var otherKeyPath = Path.Combine(TempDirectory.Create(), "dev-signing-key.json");
        Mint();

        var result = await AuthenticateAsync(DevTokens.Mint(otherKeyPath, "ana", now: Now));

        AssertFails(result, "key this API does not trust");
    }

    [Fact]
    public void Minting_refuses_unknown_roles()
    {
        var error = Assert.Throws<ArgumentException>(() => Mint(roles: ["Itsm.Superuser"]));

        Assert.Contains("Itsm.Superuser", error.Message, StringComparison.Ordinal);
    }
}
