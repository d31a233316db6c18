using Itsm.Functions.Hosting;
using Itsm.Functions.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Itsm.Functions.Tests.Deployment;

/// <summary>Under the Functions host the app refuses to start without its Azure settings, and says which ones.</summary>
public class StartupSettingsTests
{
    private const string Tenant = "6f1c2a8e-4b7d-4c1e-9a3f-2d5e8b0c7a91";

    private static IHost BuildUnderFunctionsHost(Dictionary<string, string?> settings) =>
        ItsmApp.BuildFunctionsWorker(
            [],
            configuration =>
            {
                configuration.Sources.Clear();
                configuration.AddInMemoryCollection(settings);
            });

    [Fact]
    public void Without_settings_the_app_refuses_to_start_and_names_every_missing_entra_and_cosmos_setting()
    {
        var error = AppSettingNames.StartUnderFunctionsHostWithoutSettings();

        // All of them in one go: one failed start is enough to know what to fix.
        Assert.Equal(
            ["Itsm:Auth:Audience", "Itsm:Auth:TenantId", "Itsm:Cosmos:AccountEndpoint"],
            AppSettingNames.NamedIn(error.Errors).Order(StringComparer.Ordinal));
        Assert.Contains("Itsm:Auth:TenantId", error.Message, StringComparison.Ordinal);
        Assert.Contains("Itsm:Auth:Audience", error.Message, StringComparison.Ordinal);
        Assert.Contains("Itsm:Cosmos:AccountEndpoint", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_inconsistent_setting_is_named_together_with_the_missing_ones()
    {
        var error = Assert.Throws<InvalidSettingsException>(() => BuildUnderFunctionsHost(new()
        {
            ["Itsm:Auth:TenantId"] = "contoso.onmicrosoft.com",
            ["Itsm:Cosmos:AccountEndpoint"] = "http://cosmos.example:443/",
        }));

        Assert.Contains(error.Errors, e => e.StartsWith("Itsm:Auth:TenantId must be the directory (tenant) id", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("Itsm:Auth:Audience is required", StringComparison.Ordinal));
        Assert.Contains("Itsm:Cosmos:AccountEndpoint must be an https URL.", error.Errors);
    }

    [Fact]
    public void An_unknown_store_provider_is_named()
    {
        var error = Assert.Throws<InvalidSettingsException>(() => BuildUnderFunctionsHost(new()
        {
            ["Itsm:Auth:TenantId"] = Tenant,
            ["Itsm:Auth:Audience"] = "api://itsm",
            [StorageServiceCollectionExtensions.ProviderSetting] = "Blob",
        }));

        Assert.Equal(["Itsm:Store:Provider must be Sqlite or Cosmos, not 'Blob'."], error.Errors);
    }

    [Fact]
    public async Task With_the_settings_the_deployment_writes_the_app_builds_and_selects_cosmos()
    {
        // The Itsm settings of infra/app/api.bicep, with example values; the Cosmos client connects lazily, so no account is needed.
        using var app = BuildUnderFunctionsHost(new()
        {
            ["Itsm:Store:Provider"] = "Cosmos",
            ["Itsm:Cosmos:AccountEndpoint"] = "https://cosmos-example.documents.azure.com:443/",
            ["Itsm:Cosmos:DatabaseName"] = "itsm",
            ["Itsm:Cosmos:ManagedIdentityClientId"] = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d",
            ["Itsm:Auth:TenantId"] = Tenant,
            ["Itsm:Auth:Audience"] = "api://8a2f4c6e-1d3b-4e5f-9a7c-0b2d4f6e8a1c",
            ["Itsm:Auth:Instance"] = "https://login.microsoftonline.com/",
            ["Itsm:Auth:PlatformAuthenticationEnabled"] = "true",
        });

        Assert.Equal(StoreProvider.Cosmos, app.Services.GetRequiredService<StoreInfo>().Provider);
        Assert.Equal(HostMode.FunctionsHost, app.Services.GetRequiredService<HostInfo>().Mode);
    }
}
