using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Microsoft.Extensions.Configuration;

namespace Itsm.Functions.Tests.Security;

public sealed class AuthOptionsTests
{
    private static AuthOptions Bind(bool underFunctionsHost, Dictionary<string, string?>? settings = null) =>
        AuthOptions.Bind(new ConfigurationBuilder().AddInMemoryCollection(settings ?? []).Build(), underFunctionsHost);

    [Fact]
    public void The_mode_defaults_to_Entra_under_the_Functions_host_and_to_dev_tokens_standalone()
    {
        Assert.Equal(AuthMode.Entra, Bind(underFunctionsHost: true).Mode);
        Assert.Equal(AuthMode.DevTokens, Bind(underFunctionsHost: false).Mode);
        Assert.Equal(AuthMode.DevTokens, Bind(underFunctionsHost: true, new() { ["Itsm:Auth:Mode"] = "DevTokens" }).Mode);
    }

    [Fact]
    public void Defaults_are_the_public_cloud_a_two_minute_skew_and_a_key_next_to_the_database()
    {
        var options = Bind(false);

        Assert.Equal("https://login.microsoftonline.com/", options.Instance);
        Assert.Equal(TimeSpan.FromMinutes(2), options.ClockSkew);
        Assert.Equal(Path.Combine(".itsm", "dev-signing-key.json"), options.DevKeyPath);
        Assert.Equal(Path.Combine("/data", "dev-signing-key.json"), Bind(false, new() { ["Itsm:Sqlite:Path"] = "/data/itsm.db" }).DevKeyPath);
        Assert.Equal("/keys/k.json", Bind(false, new() { ["Itsm:Sqlite:Path"] = "/data/itsm.db", ["Itsm:Auth:DevKeyPath"] = "/keys/k.json" }).DevKeyPath);
    }

    [Fact]
    public void The_platform_principal_header_is_never_trusted_standalone()
    {
        var settings = new Dictionary<string, string?> { ["Itsm:Auth:PlatformAuthenticationEnabled"] = "true" };

        Assert.True(Bind(underFunctionsHost: true, settings).PlatformAuthenticationEnabled);
        Assert.False(Bind(underFunctionsHost: false, settings).PlatformAuthenticationEnabled);
    }

    [Fact]
    public void Entra_mode_needs_the_tenant_id_and_the_audience_and_says_so()
    {
        var errors = Bind(underFunctionsHost: true).Validate();

        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("Itsm:Auth:TenantId is required in Entra mode", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Itsm:Auth:Audience is required in Entra mode", StringComparison.Ordinal));
    }

    [Fact]
    public void Malformed_Entra_settings_are_named()
    {
        var errors = Bind(true, new()
        {
            ["Itsm:Auth:TenantId"] = "contoso.onmicrosoft.com",
            ["Itsm:Auth:Audience"] = "api://itsm",
            ["Itsm:Auth:AllowedTenants"] = "fabrikam",
            ["Itsm:Auth:Instance"] = "http://login.example",
            ["Itsm:Auth:ClockSkew"] = "01:00:00",
        }).Validate();

        Assert.Equal(
            [
                "Itsm:Auth:ClockSkew must be between 00:00:00 and 00:10:00.",
                "Itsm:Auth:TenantId must be the directory (tenant) id, a GUID, not 'contoso.onmicrosoft.com'.",
                "Itsm:Auth:AllowedTenants must list tenant ids (GUIDs); 'fabrikam' is not one.",
                "Itsm:Auth:Instance must be an https URL ending with '/', such as https://login.microsoftonline.com/.",
            ],
            errors);
    }

    [Fact]
    public void A_complete_Entra_configuration_is_valid()
    {
        var options = Bind(true, new()
        {
            ["Itsm:Auth:TenantId"] = "6f1c2a8e-4b7d-4c1e-9a3f-2d5e8b0c7a91",
            ["Itsm:Auth:Audience"] = "api://8a2f4c6e-1d3b-4e5f-9a7c-0b2d4f6e8a1c, https://itsm.contoso.com",
        });

        Assert.Empty(options.Validate());
        Assert.Equal("https://login.microsoftonline.com/6f1c2a8e-4b7d-4c1e-9a3f-2d5e8b0c7a91/v2.0/.well-known/openid-configuration", options.MetadataAddress);
        Assert.Equal(["api://8a2f4c6e-1d3b-4e5f-9a7c-0b2d4f6e8a1c", "8a2f4c6e-1d3b-4e5f-9a7c-0b2d4f6e8a1c", "https://itsm.contoso.com"], options.Audiences());
        Assert.Equal(
            ["https://login.microsoftonline.com/6f1c2a8e-4b7d-4c1e-9a3f-2d5e8b0c7a91/v2.0", "https://sts.windows.net/6f1c2a8e-4b7d-4c1e-9a3f-2d5e8b0c7a91/"],
            TokenTrust.ForEntra(options).Issuers);
    }

    [Fact]
    public void Dev_tokens_need_no_settings()
    {
        Assert.Empty(Bind(false).Validate());
    }

    [Fact]
    public void Registering_security_with_invalid_settings_stops_the_app_and_names_the_setting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Itsm:Auth:Audience"] = "api://itsm" }).Build();

        var error = Assert.Throws<InvalidSettingsException>(() => new ServiceCollection().AddItsmSecurity(configuration, underFunctionsHost: true));

        Assert.Contains("Itsm:Auth:TenantId", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registering_security_provides_the_options_and_the_bearer_authenticator()
    {
        var configuration = new ConfigurationBuilder().Build();

        using var services = new ServiceCollection().AddItsmSecurity(configuration, underFunctionsHost: false).BuildServiceProvider();

        Assert.IsType<BearerCallerAuthenticator>(services.GetRequiredService<ICallerAuthenticator>());
        Assert.Equal(AuthMode.DevTokens, services.GetRequiredService<AuthOptions>().Mode);
    }
}
