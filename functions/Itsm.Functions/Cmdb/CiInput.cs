using System.Text.Json;
using Itsm.Functions.Hosting;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Cmdb;

/// <summary>The writable fields of a CI, as given by an API body or a CSV row (null: not given).</summary>
public sealed record CiFields
{
    public string? Class { get; init; }

    public string? Name { get; init; }

    public CiStatus? Status { get; init; }

    public CiEnvironment? Environment { get; init; }

    public string? OwnerGroup { get; init; }

    public string? SupportGroup { get; init; }

    public CiCriticality? Criticality { get; init; }

    public string? ExternalKey { get; init; }

    public string? Description { get; init; }

    public IReadOnlyDictionary<string, JsonElement>? Attributes { get; init; }

    /// <summary>Fields a merge patch clears (explicit null).</summary>
    public IReadOnlySet<string> Cleared { get; init; } = new HashSet<string>();
}

/// <summary>The rules that turn <see cref="CiFields"/> into a valid CI (pure); shared by the API and the CSV import.</summary>
public static class CiRules
{
    public const int MaxNameLength = 200;
    public const int MaxGroupLength = 100;
    public const int MaxExternalKeyLength = 400;

    public static readonly string[] ImmutableFields = ["class", "externalKey"];

    /// <summary>A new CI from fields; errors per field when a field is missing or invalid.</summary>
    public static ConfigurationItem? Create(CiFields fields, TenantCiClasses? classes, string tenantId, string actor, DateTimeOffset now, Dictionary<string, string[]> errors)
    {
        var definition = ResolveClass(fields.Class, classes, errors);
        Require(fields.Name, "name", errors);
        CheckTexts(fields, errors);
        var attributes = definition is null
            ? new Dictionary<string, JsonElement>()
            : CiClasses.Validate(definition, fields.Attributes ?? new Dictionary<string, JsonElement>(), errors);
        if (errors.Count > 0)
        {
            return null;
        }

        return new ConfigurationItem
        {
            Id = ConfigurationItem.IdFor(fields.ExternalKey),
            TenantId = tenantId,
            Class = definition!.Name,
            Name = fields.Name!,
            Status = fields.Status ?? CiStatus.Operational,
            Environment = fields.Environment ?? CiEnvironment.Production,
            OwnerGroup = fields.OwnerGroup,
            SupportGroup = fields.SupportGroup,
            Criticality = fields.Criticality ?? CiCriticality.Medium,
            ExternalKey = fields.ExternalKey,
            Description = fields.Description,
            Attributes = attributes,
            CreatedAt = now,
            CreatedBy = actor,
            UpdatedAt = now,
        };
    }

    /// <summary>
    /// The CI with the given fields applied. With <paramref name="replaceAttributes"/> (an import row) the attributes are the
    /// row's; otherwise (a merge patch) they are merged, and a JSON null removes one.
    /// </summary>
    public static ConfigurationItem? Apply(ConfigurationItem current, CiFields fields, TenantCiClasses? classes, bool replaceAttributes, DateTimeOffset now, Dictionary<string, string[]> errors)
    {
        if (fields.Class is not null && fields.Class != current.Class)
        {
            errors["class"] = ["cannot be changed; create a new CI of the other class and retire this one."];
        }

        if (fields.ExternalKey is not null && fields.ExternalKey != current.ExternalKey)
        {
            errors["externalKey"] = ["cannot be changed once set."];
        }

        foreach (var field in fields.Cleared.Where(f => f is "name" or "status" or "environment" or "criticality" or "class" or "externalKey"))
        {
            errors[field] = ["cannot be cleared."];
        }

        CheckTexts(fields, errors);
        var definition = CiClasses.Find(current.Class, classes);
        Dictionary<string, JsonElement> merged;
        if (replaceAttributes)
        {
            merged = new Dictionary<string, JsonElement>(fields.Attributes ?? current.Attributes, StringComparer.Ordinal);
        }
        else
        {
            merged = new Dictionary<string, JsonElement>(current.Attributes, StringComparer.Ordinal);
            foreach (var (name, value) in fields.Attributes ?? new Dictionary<string, JsonElement>())
            {
                if (value.ValueKind == JsonValueKind.Null)
                {
                    merged.Remove(name);
                }
                else
                {
                    merged[name] = value;
                }
            }
        }

        var attributes = definition is null
            ? merged
            : CiClasses.Validate(definition, merged, errors);
        if (errors.Count > 0)
        {
            return null;
        }

        string? Pick(string? given, string? old, string name) => fields.Cleared.Contains(name) ? null : given ?? old;
        return current with
        {
            Name = fields.Name ?? current.Name,
            Status = fields.Status ?? current.Status,
            Environment = fields.Environment ?? current.Environment,
            Criticality = fields.Criticality ?? current.Criticality,
            OwnerGroup = Pick(fields.OwnerGroup, current.OwnerGroup, "ownerGroup"),
            SupportGroup = Pick(fields.SupportGroup, current.SupportGroup, "supportGroup"),
            Description = Pick(fields.Description, current.Description, "description"),
            Attributes = attributes,
            UpdatedAt = now,
        };
    }

    /// <summary>Reads the fields of an API body; the attribute values are checked against the class later.</summary>
    public static CiFields Read(JsonBodyReader body)
    {
        var cleared = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in new[] { "class", "name", "status", "environment", "criticality", "externalKey", "ownerGroup", "supportGroup", "description", "attributes" })
        {
            if (body.IsExplicitNull(name))
            {
                cleared.Add(name);
            }
        }

        return new CiFields
        {
            Class = body.String("class", maxLength: 40),
            Name = body.String("name", maxLength: MaxNameLength),
            Status = body.Enum<CiStatus>("status"),
            Environment = body.Enum<CiEnvironment>("environment"),
            Criticality = body.Enum<CiCriticality>("criticality"),
            ExternalKey = body.String("externalKey", maxLength: MaxExternalKeyLength),
            OwnerGroup = body.String("ownerGroup", maxLength: MaxGroupLength),
            SupportGroup = body.String("supportGroup", maxLength: MaxGroupLength),
            Description = body.String("description", maxLength: 4000, multiLine: true),
            Attributes = AttributesOf(body),
            Cleared = cleared,
        };
    }

    /// <summary>The audit changes between two versions of a CI.</summary>
    public static IReadOnlyList<FieldChange> Diff(ConfigurationItem? before, ConfigurationItem after)
    {
        var old = before is null ? default : JsonSerializer.SerializeToElement(before, HttpResults.Json);
        var now = JsonSerializer.SerializeToElement(after, HttpResults.Json);
        var names = new SortedSet<string>(now.EnumerateObject().Select(p => p.Name), StringComparer.Ordinal);
        if (before is not null)
        {
            names.UnionWith(old.EnumerateObject().Select(p => p.Name));
        }

        var changes = new List<FieldChange>();
        foreach (var name in names.Where(n => n is not ("updatedAt" or "docType" or "ciId" or "revision")))
        {
            JsonElement? oldValue = before is not null && old.TryGetProperty(name, out var o) ? o.Clone() : null;
            JsonElement? newValue = now.TryGetProperty(name, out var n) ? n.Clone() : null;
            if (oldValue?.GetRawText() != newValue?.GetRawText())
            {
                changes.Add(new FieldChange(name, oldValue, newValue));
            }
        }

        return changes;
    }

    private static Dictionary<string, JsonElement>? AttributesOf(JsonBodyReader body)
    {
        var reader = body.Object("attributes");
        if (reader is null)
        {
            return null;
        }

        var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(reader.RawJson);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            reader.Has(property.Name);
            values[property.Name] = property.Value.Clone();
        }

        if (values.Count > CiClasses.MaxAttributesPerClass)
        {
            body.AddError("attributes", $"must have at most {CiClasses.MaxAttributesPerClass} attributes.");
        }

        return values;
    }

    private static CiClassDefinition? ResolveClass(string? name, TenantCiClasses? classes, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(name))
        {
            errors["class"] = ["is required."];
            return null;
        }

        var definition = CiClasses.Find(name, classes);
        if (definition is null)
        {
            errors["class"] = [$"'{name}' is not a known class (known: {string.Join(", ", CiClasses.Names(classes))})."];
        }

        return definition;
    }

    private static void Require(string? value, string name, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(value) && !errors.ContainsKey(name))
        {
            errors[name] = ["is required."];
        }
    }

    private static void CheckTexts(CiFields fields, Dictionary<string, string[]> errors)
    {
        if (fields.ExternalKey is { } key && (key.Length == 0 || key.Any(char.IsControl)))
        {
            errors["externalKey"] = ["must be non-empty text without control characters."];
        }

        if (fields.Name is { Length: 0 })
        {
            errors["name"] = ["must not be empty."];
        }
    }
}
