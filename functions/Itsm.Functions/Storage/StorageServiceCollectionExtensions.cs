using Itsm.Functions.Hosting;
using Itsm.Functions.Storage.Cosmos;
using Itsm.Functions.Storage.Sqlite;

namespace Itsm.Functions.Storage;

public enum StoreProvider
{
    Sqlite,
    Cosmos,
}

public static class StorageServiceCollectionExtensions
{
    /// <summary>The setting that selects the store (app setting <c>Itsm__Store__Provider</c>).</summary>
    public const string ProviderSetting = "Itsm:Store:Provider";

    /// <summary>
    /// Registers the document store: <c>Itsm:Store:Provider</c>, by default SQLite standalone and Cosmos DB under the
    /// Functions host (where the local disk is neither shared nor durable). Invalid settings stop the app at start.
    /// </summary>
    public static IServiceCollection AddItsmStorage(this IServiceCollection services, IConfiguration configuration, bool underFunctionsHost)
    {
        var text = configuration[ProviderSetting];
        StoreProvider provider;
        if (string.IsNullOrEmpty(text))
        {
            provider = underFunctionsHost ? StoreProvider.Cosmos : StoreProvider.Sqlite;
        }
        else if (!Enum.TryParse(text, ignoreCase: true, out provider) || int.TryParse(text, out _))
        {
            throw new InvalidSettingsException([$"{ProviderSetting} must be Sqlite or Cosmos, not '{text}'."]);
        }

        services.AddSingleton(new StoreInfo(provider));
        if (provider == StoreProvider.Cosmos)
        {
            var options = configuration.GetSection(CosmosStoreOptions.SectionName).Get<CosmosStoreOptions>() ?? new CosmosStoreOptions();
            if (options.Validate() is { Count: > 0 } errors)
            {
                throw new InvalidSettingsException(errors);
            }

            services.AddSingleton<IDocumentStore>(_ => CosmosDocumentStore.Create(options));
        }
        else
        {
            services.AddSingleton<IDocumentStore>(sp => new SqliteDocumentStore(sp.GetRequiredService<SqliteDatabase>()));
        }

        return services;
    }
}

public sealed record StoreInfo(StoreProvider Provider);
