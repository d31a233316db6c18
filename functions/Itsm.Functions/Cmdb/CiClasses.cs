using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Itsm.Functions.Cmdb;

[JsonConverter(typeof(JsonStringEnumConverter<AttributeType>))]
public enum AttributeType
{
    String,
    Integer,
    Number,
    Boolean,

    /// <summary>A string from <see cref="AttributeDefinition.AllowedValues"/>.</summary>
    Choice,
}

public sealed record AttributeDefinition(string Name, AttributeType Type, bool Required = false, IReadOnlyList<string>? AllowedValues = null, int MaxLength = 500);

/// <summary>A CI class: its name and the typed attributes its CIs may carry.</summary>
public sealed record CiClassDefinition(string Name, string Label, IReadOnlyList<AttributeDefinition> Attributes, bool BuiltIn = false)
{
    public AttributeDefinition? Attribute(string name) => Attributes.FirstOrDefault(a => a.Name == name);
}

/// <summary>The tenant's own classes, one document per tenant in the <c>cis</c> container.</summary>
public sealed record TenantCiClasses
{
    public const string DocumentType = "classes";
    public const string PartitionId = "classes";

    public string Id => PartitionId;

    public required string TenantId { get; init; }

    public string CiId => PartitionId;

    public string DocType => DocumentType;

    public IReadOnlyList<CiClassDefinition> Classes { get; init; } = [];
}

/// <summary>The built-in classes and the rules for typed attributes (pure).</summary>
public static partial class CiClasses
{
    public const int MaxAttributesPerClass = 40;
    public const int MaxTenantClasses = 100;

    public static readonly IReadOnlyList<CiClassDefinition> BuiltIn =
    [
        new("businessService", "Business service",
        [
            new("serviceTier", AttributeType.Integer),
            new("serviceOwner", AttributeType.String),
            new("hoursOfService", AttributeType.Choice, AllowedValues: ["24x7", "business-hours"]),
        ], true),
        new("application", "Application",
        [
            new("version", AttributeType.String),
            new("vendor", AttributeType.String),
            new("url", AttributeType.String),
        ], true),
        new("database", "Database",
        [
            new("engine", AttributeType.Choice, AllowedValues: ["sqlserver", "postgresql", "mysql", "oracle", "cosmosdb", "mongodb", "other"]),
            new("version", AttributeType.String),
            new("sizeGb", AttributeType.Number),
        ], true),
        new("server", "Server",
        [
            new("operatingSystem", AttributeType.String),
            new("cpuCores", AttributeType.Integer),
            new("memoryGb", AttributeType.Number),
            new("ipAddress", AttributeType.String),
            new("serialNumber", AttributeType.String),
        ], true),
        new("virtualMachine", "Virtual machine",
        [
            new("operatingSystem", AttributeType.String),
            new("cpuCores", AttributeType.Integer),
            new("memoryGb", AttributeType.Number),
            new("ipAddress", AttributeType.String),
            new("hypervisor", AttributeType.String),
        ], true),
        new("networkDevice", "Network device",
        [
            new("deviceType", AttributeType.Choice, AllowedValues: ["router", "switch", "firewall", "loadBalancer", "accessPoint", "other"]),
            new("vendor", AttributeType.String),
            new("ipAddress", AttributeType.String),
            new("ports", AttributeType.Integer),
        ], true),
        new("cloudResource", "Cloud resource",
        [
            new("provider", AttributeType.Choice, AllowedValues: ["azure", "aws", "gcp", "other"]),
            new("resourceType", AttributeType.String),
            new("region", AttributeType.String),
            new("subscription", AttributeType.String),
            new("managed", AttributeType.Boolean),
        ], true),
    ];

    public const string BusinessService = "businessService";

    [GeneratedRegex("^[a-z][A-Za-z0-9]{1,39}$")]
    public static partial Regex NamePattern();

    public static CiClassDefinition? Find(string name, TenantCiClasses? tenant) =>
        BuiltIn.FirstOrDefault(c => c.Name == name) ?? tenant?.Classes.FirstOrDefault(c => c.Name == name);

    public static IEnumerable<string> Names(TenantCiClasses? tenant) => BuiltIn.Select(c => c.Name).Concat(tenant?.Classes.Select(c => c.Name) ?? []);

    /// <summary>Checks a tenant class definition: its name, no clash with a built-in class, attribute names and types.</summary>
    public static Dictionary<string, string[]> ValidateDefinition(CiClassDefinition definition)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!NamePattern().IsMatch(definition.Name))
        {
            errors["name"] = ["must start with a lower-case letter and contain only letters and digits (2 to 40)."];
        }
        else if (BuiltIn.Any(c => c.Name == definition.Name))
        {
            errors["name"] = [$"'{definition.Name}' is a built-in class and cannot be redefined."];
        }

        if (definition.Attributes.Count > MaxAttributesPerClass)
        {
            errors["attributes"] = [$"must have at most {MaxAttributesPerClass} attributes."];
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < definition.Attributes.Count; i++)
        {
            var attribute = definition.Attributes[i];
            if (!NamePattern().IsMatch(attribute.Name) || !seen.Add(attribute.Name))
            {
                errors[$"attributes[{i}].name"] = ["must be a unique name starting with a lower-case letter, letters and digits only."];
            }

            if (attribute.Type == AttributeType.Choice != attribute.AllowedValues is { Count: > 0 })
            {
                errors[$"attributes[{i}].allowedValues"] = ["are required for a Choice attribute and only allowed for it."];
            }

            if (attribute.MaxLength is < 1 or > 4000)
            {
                errors[$"attributes[{i}].maxLength"] = ["must be between 1 and 4000."];
            }
        }

        return errors;
    }

    /// <summary>
    /// Validates attributes given as JSON against the class: unknown names, wrong types and missing required ones
    /// are reported under <c>attributes.NAME</c>. Returns the accepted values.
    /// </summary>
    public static Dictionary<string, JsonElement> Validate(CiClassDefinition definition, IReadOnlyDictionary<string, JsonElement> values, Dictionary<string, string[]> errors, string prefix = "attributes.")
    {
        var accepted = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            var attribute = definition.Attribute(name);
            if (attribute is null)
            {
                errors[prefix + name] = [$"is not an attribute of class '{definition.Name}' (known: {string.Join(", ", definition.Attributes.Select(a => a.Name))})."];
                continue;
            }

            if (Check(attribute, value) is { } reason)
            {
                errors[prefix + name] = [reason];
                continue;
            }

            accepted[name] = value.Clone();
        }

        foreach (var attribute in definition.Attributes.Where(a => a.Required && !accepted.ContainsKey(a.Name) && !errors.ContainsKey(prefix + a.Name)))
        {
            errors[prefix + attribute.Name] = [$"is required for class '{definition.Name}'."];
        }

        return accepted;
    }

    /// <summary>Converts a CSV cell to the attribute's JSON value, or says why not.</summary>
    public static (JsonElement? Value, string? Error) FromText(AttributeDefinition attribute, string text)
    {
        var trimmed = text.Trim();
        switch (attribute.Type)
        {
            case AttributeType.Integer:
                return long.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole)
                    ? (JsonSerializer.SerializeToElement(whole), null)
                    : (null, "must be a whole number.");
            case AttributeType.Number:
                return double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
                    ? (JsonSerializer.SerializeToElement(number), null)
                    : (null, "must be a number (with '.' as decimal separator).");
            case AttributeType.Boolean:
                return trimmed.ToLowerInvariant() switch
                {
                    "true" => (JsonSerializer.SerializeToElement(true), null),
                    "false" => (JsonSerializer.SerializeToElement(false), null),
                    _ => (null, "must be true or false."),
                };
            default:
                var value = JsonSerializer.SerializeToElement(trimmed);
                return Check(attribute, value) is { } reason ? (null, reason) : (value, null);
        }
    }

    private static string? Check(AttributeDefinition attribute, JsonElement value) => attribute.Type switch
    {
        AttributeType.String => value.ValueKind != JsonValueKind.String ? "must be a string."
            : value.GetString()!.Length > attribute.MaxLength ? $"must be at most {attribute.MaxLength} characters."
            : Hosting.TextRules.ControlCharacterProblem(value.GetString(), multiLine: false),
        AttributeType.Integer => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _) ? null : "must be a whole number.",
        AttributeType.Number => value.ValueKind == JsonValueKind.Number ? null : "must be a number.",
        AttributeType.Boolean => value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : "must be true or false.",
        AttributeType.Choice => value.ValueKind == JsonValueKind.String && attribute.AllowedValues!.Contains(value.GetString()!)
            ? null
            : $"must be one of: {string.Join(", ", attribute.AllowedValues ?? [])}.",
        _ => "has an unknown type.",
    };
}
