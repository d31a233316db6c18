using Itsm.Functions.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.Protocols;

namespace Itsm.Functions.Security;

public static class SecurityServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="AuthOptions"/> (from <c>Itsm:Auth</c>) and the bearer-token <see cref="ICallerAuthenticator"/>.
    /// Throws <see cref="InvalidSettingsException"/> naming the bad settings, so the app refuses to start.
    /// An <see cref="IDocumentRetriever"/> registered before this call fetches the Entra metadata instead of HTTPS (tests).
    /// </summary>
    public static IServiceCollection AddItsmSecurity(this IServiceCollection services, IConfiguration configuration, bool underFunctionsHost)
    {
        var options = AuthOptions.Bind(configuration, underFunctionsHost);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new InvalidSettingsException(errors);
        }

        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => BearerTokenValidator.Create(options, sp.GetRequiredService<TimeProvider>(), sp.GetService<IDocumentRetriever>()));
        services.AddSingleton<ICallerAuthenticator, BearerCallerAuthenticator>();
        return services;
    }
}
