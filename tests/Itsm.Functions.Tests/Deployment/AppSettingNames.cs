using System.Reflection;
using System.Text.RegularExpressions;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Storage.Cosmos;
using Microsoft.Extensions.Configuration;

namespace Itsm.Functions.Tests.Deployment;

/// <summary>The app's setting names, taken from the code (options classes, validation messages, function bindings).</summary>
internal static partial class AppSettingNames
{
    /// <summary>Every <c>Itsm:...</c> key the app binds: the properties of its options classes, plus the settings read by name.</summary>
    public static IReadOnlySet<string> Known { get; } = new HashSet<string>(
        OptionKeys(typeof(ItsmOptions), ItsmOptions.SectionName)
            .Concat(OptionKeys(typeof(AuthOptions), AuthOptions.SectionName))
            .Concat(OptionKeys(typeof(CosmosStoreOptions), CosmosStoreOptions.SectionName))
            .Concat(OptionKeys(typeof(Itsm.Functions.Notifications.GraphOptions), Itsm.Functions.Notifications.GraphOptions.SectionName))
            .Append(StorageServiceCollectionExtensions.ProviderSetting)
            .Append(Itsm.Functions.Approvals.ApprovalLinks.KeySetting)
            .Append(Itsm.Functions.Approvals.ApprovalLinks.BaseUrlSetting),
        StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The settings the app refuses to start without under the Functions host: the isolated worker built with no
    /// settings at all fails and its errors name them.
    /// </summary>
    public static InvalidSettingsException StartUnderFunctionsHostWithoutSettings() =>
        Assert.Throws<InvalidSettingsException>(() => ItsmApp.BuildFunctionsWorker(
            [],
            configuration =>
            {
                // Only what the test sets: no appsettings from the build output, no ITSM variables from the machine.
                configuration.Sources.Clear();
            }));

    /// <summary>The <c>Itsm:...</c> setting each error message starts with (every validation message names its setting first).</summary>
    public static IReadOnlyList<string> NamedIn(IEnumerable<string> errors) =>
        errors.Select(e => SettingName().Match(e)).Where(m => m.Success).Select(m => m.Value).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    /// <summary><c>Itsm:Auth:TenantId</c> as an app setting: <c>Itsm__Auth__TenantId</c>.</summary>
    public static string AsAppSetting(string key) => key.Replace(":", "__", StringComparison.Ordinal);

    public static string AsConfigurationKey(string appSetting) => appSetting.Replace("__", ":", StringComparison.Ordinal);

    public static string Setting<T>(string sectionName, string propertyName)
    {
        if (typeof(T).GetProperty(propertyName) is null)
        {
            throw new ArgumentException($"{typeof(T).Name} has no property {propertyName}.", nameof(propertyName));
        }

        return $"{sectionName}:{propertyName}";
    }

    private static IEnumerable<string> OptionKeys(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!property.CanRead || !property.CanWrite || property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            var key = $"{prefix}:{property.Name}";
            if (propertyType.IsClass && propertyType != typeof(string) && propertyType.Namespace?.StartsWith("Itsm.", StringComparison.Ordinal) == true)
            {
                foreach (var nested in OptionKeys(propertyType, key))
                {
                    yield return nested;
                }
            }
            else
            {
                yield return key;
            }
        }
    }

    [GeneratedRegex(@"^Itsm(:[A-Za-z]+)+")]
    private static partial Regex SettingName();
}
