using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Tokens;

namespace Itsm.Functions.Tests.Security;

/// <summary>Entra mode against a fake discovery endpoint: keys from the OIDC metadata, issuers of the allowed tenants only.</summary>
public sealed class EntraTokenValidationTests
{
    private const string Tenant = "6f1c2a8e-4b7d-4c1e-9a3f-2d5e8b0c7a91";
    private const string PartnerTenant = "0b9d4e21-7c3a-4f58-8e6d-1a2b3c4d5e6f";
    private const string OtherTenant = "d3e4f5a6-b7c8-4d9e-8f01-23456789abcd";
    private const string ClientId = "8a2f4c6e-1d3b-4e5f-9a7c-0b2d4f6e8a1c";

    private static readonly DateTimeOffset Now = StandaloneApp.Epoch;

    private readonly FakeEntraMetadata _entra = new(Tenant);
    private readonly FakeTimeProvider _clock = new(Now);
    private readonly RsaSecurityKey _key1 = TestJwt.NewRsaKey("key-2026-01");

    public EntraTokenValidationTests()
    {
        _entra.Publish(_key1);
    }

    private ICallerAuthenticator Authenticator(string? allowedTenants = null)
    {
        var options = new AuthOptions { Mode = AuthMode.Entra, TenantId = Tenant, Audience = $"api://{ClientId}", AllowedTenants = allowedTenants };
        Assert.Empty(options.Validate());
        IDocumentRetriever retriever = new HttpDocumentRetriever(new HttpClient(_entra));
        return new BearerCallerAuthenticator(BearerTokenValidator.Create(options, _clock, retriever));
    }

    private static string Token(SecurityKey key, string issuer, string audience, string tenant, params string[] roles) =>
        TestJwt.Sign(key, issuer, audience, TestJwt.UserClaims(tenant, "oid-ana", roles), Now.AddMinutes(-5), Now.AddMinutes(55));

    private static string V2Issuer(string tenant) => $"https://login.microsoftonline.com/{tenant}/v2.0";

    private static string V1Issuer(string tenant) => $"https://sts.windows.net/{tenant}/";

    private static Task<AuthenticationResult> Send(ICallerAuthenticator authenticator, string token) =>
        authenticator.AuthenticateAsync("Bearer " + token, CancellationToken.None);

    [Fact]
    public async Task A_v2_token_carrying_the_client_id_as_audience_is_accepted()
    {
        var result = await Send(Authenticator(), Token(_key1, V2Issuer(Tenant), ClientId, Tenant, AppRoles.ChangeManager));

        Assert.True(result.Succeeded, result.Failure);
        Assert.Equal(Tenant, result.Caller!.TenantId);
        Assert.Equal("oid-ana", result.Caller.UserId);
        Assert.Equal([AppRoles.ChangeManager], result.Caller.Roles);
        Assert.Equal(1, _entra.MetadataRequests);
        Assert.Equal(1, _entra.JwksRequests);
    }

    [Fact]
    public async Task A_v1_token_carrying_the_application_id_uri_as_audience_is_accepted()
    {
        var result = await Send(Authenticator(), Token(_key1, V1Issuer(Tenant), $"api://{ClientId}", Tenant));

        Assert.True(result.Succeeded, result.Failure);
        Assert.Equal([AppRoles.Requester], result.Caller!.Roles);
    }

    [Fact]
    public async Task Metadata_is_fetched_once_for_many_tokens()
    {
        var authenticator = Authenticator();

        for (var i = 0; i < 5; i++)
        {
            Assert.True((await Send(authenticator, Token(_key1, V2Issuer(Tenant), ClientId, Tenant))).Succeeded);
        }

        Assert.Equal(1, _entra.MetadataRequests);
        Assert.Equal(1, _entra.JwksRequests);
    }

    [Fact]
    public async Task Tokens_of_an_allowed_partner_tenant_are_accepted_and_other_tenants_are_refused()
    {
        var authenticator = Authenticator(allowedTenants: PartnerTenant);

        var partner = await Send(authenticator, Token(_key1, V2Issuer(PartnerTenant), ClientId, PartnerTenant));
        var partnerV1 = await Send(authenticator, Token(_key1, V1Issuer(PartnerTenant), ClientId, PartnerTenant));
        var other = await Send(authenticator, Token(_key1, V2Issuer(OtherTenant), ClientId, OtherTenant));

        Assert.True(partner.Succeeded, partner.Failure);
        Assert.Equal(PartnerTenant, partner.Caller!.TenantId);
        Assert.True(partnerV1.Succeeded, partnerV1.Failure);
        Assert.False(other.Succeeded);
        Assert.Equal("The token's issuer is not trusted.", other.Failure);
    }

    [Fact]
    public async Task A_home_tenant_issuer_with_a_foreign_tenant_id_is_refused()
    {
        var result = await Send(Authenticator(), Token(_key1, V2Issuer(Tenant), ClientId, OtherTenant));

        Assert.False(result.Succeeded);
        Assert.Equal($"Tenant '{OtherTenant}' is not allowed to call this API.", result.Failure);
    }

    [Fact]
    public async Task A_token_for_another_app_is_refused()
    {
        var result = await Send(Authenticator(), Token(_key1, V2Issuer(Tenant), "00000003-0000-0000-c000-000000000000", Tenant));

        Assert.Equal("The token is not meant for this API (audience).", result.Failure);
    }

    [Fact]
    public async Task A_dev_token_is_refused_in_Entra_mode()
    {
        var devToken = DevTokens.Mint(Path.Combine(TempDirectory.Create(), "dev-signing-key.json"), "ana", tenantId: Tenant, now: Now);

        var result = await Send(Authenticator(), devToken);

        Assert.False(result.Succeeded);
    }

    [Fact]
    public async Task After_a_key_rotation_the_new_key_is_fetched_when_a_token_names_it()
    {
        var authenticator = Authenticator();
        Assert.True((await Send(authenticator, Token(_key1, V2Issuer(Tenant), ClientId, Tenant))).Succeeded);

        var key2 = TestJwt.NewRsaKey("key-2026-04");
        _entra.Publish(key2);
        var result = await Send(authenticator, Token(key2, V2Issuer(Tenant), ClientId, Tenant, AppRoles.Agent));

        Assert.True(result.Succeeded, result.Failure);
        Assert.Equal(2, _entra.JwksRequests);
        Assert.Equal("The token is signed with a key this API does not trust.", (await Send(authenticator, Token(_key1, V2Issuer(Tenant), ClientId, Tenant))).Failure);
    }

    [Fact]
    public void Key_refreshes_block_the_request_that_asked_for_them()
    {
        Assert.True(AppContext.TryGetSwitch("Switch.Microsoft.IdentityModel.UpdateConfigAsBlocking", out var blocking) && blocking);
    }

    [Fact]
    public async Task Unknown_key_ids_do_not_make_every_request_refetch_the_keys()
    {
        var authenticator = Authenticator();
        Assert.True((await Send(authenticator, Token(_key1, V2Issuer(Tenant), ClientId, Tenant))).Succeeded);

        for (var i = 0; i < 3; i++)
        {
            var result = await Send(authenticator, Token(TestJwt.NewRsaKey($"forged-{i}"), V2Issuer(Tenant), ClientId, Tenant));
            Assert.Equal("The token is signed with a key this API does not trust.", result.Failure);
        }

        Assert.Equal(2, _entra.JwksRequests);
    }

    [Fact]
    public async Task A_token_signed_by_an_impostor_key_with_a_published_key_id_is_refused()
    {
        var impostor = TestJwt.NewRsaKey(_key1.KeyId);

        var result = await Send(Authenticator(), Token(impostor, V2Issuer(Tenant), ClientId, Tenant, AppRoles.Admin));

        Assert.Equal("The token's signature is invalid.", result.Failure);
    }
}
