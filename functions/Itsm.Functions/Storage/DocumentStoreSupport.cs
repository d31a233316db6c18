using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Itsm.Functions.Hosting;

namespace Itsm.Functions.Storage;

/// <summary>
/// What both adapters share so that they behave the same: document serialisation (the app's JSON options),
/// validation of keys, fields and queries, filter values normalised through the same serialiser, and the
/// checksummed continuation-token envelope.
/// </summary>
internal static partial class DocumentStoreSupport
{
    public const int MaxPageSize = 1000;

    public static JsonSerializerOptions Json => HttpResults.Json;

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,62}$")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex(@"^\$(\.[A-Za-z_][A-Za-z0-9_]*)+$")]
    private static partial Regex JsonPathPattern();

    [GeneratedRegex("^(/[A-Za-z_][A-Za-z0-9_]*)+$")]
    private static partial Regex PartitionKeyPathPattern();

    public static void ValidateContainer(ContainerDefinition container)
    {
        if (!IdentifierPattern().IsMatch(container.Name))
        {
            throw new ArgumentException($"Container name '{container.Name}' must be a letter followed by letters, digits or '_'.", nameof(container));
        }

        if (container.PartitionKeyPaths.Count is < 1 or > 2)
        {
            throw new ArgumentException($"Container '{container.Name}' must have one or two partition key paths.", nameof(container));
        }

        foreach (var path in container.PartitionKeyPaths)
        {
            if (!PartitionKeyPathPattern().IsMatch(path))
            {
                throw new ArgumentException($"Partition key path '{path}' of container '{container.Name}' is not a simple property path like /tenantId.", nameof(container));
            }
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var field in container.Fields)
        {
            if (!IdentifierPattern().IsMatch(field.Name) || !names.Add(field.Name))
            {
                throw new ArgumentException($"Field '{field.Name}' of container '{container.Name}' must be a unique identifier.", nameof(container));
            }

            if (!JsonPathPattern().IsMatch(field.JsonPath))
            {
                throw new ArgumentException($"Field '{field.Name}' has JSON path '{field.JsonPath}'; expected $.property(.property)*.", nameof(container));
            }
        }
    }

    public static bool IsHierarchical(ContainerDefinition container) => container.PartitionKeyPaths.Count > 1;

    /// <summary>The levels of a full partition key; their number must match the container's paths.</summary>
    public static string[] FullLevels(ContainerDefinition container, string partitionKey)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        var levels = partitionKey.Split(DocumentKey.LevelSeparator);
        if (levels.Length != container.PartitionKeyPaths.Count || levels.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException(
                $"Partition key '{partitionKey}' must have {container.PartitionKeyPaths.Count} non-empty level(s) for container '{container.Name}'.",
                nameof(partitionKey));
        }

        return levels;
    }

    /// <summary>A query's partition: the full key, or for a hierarchical container the first level alone.</summary>
    public static (string[] Levels, bool IsPrefix) QueryLevels(ContainerDefinition container, string partitionKey)
    {
        var levels = partitionKey.Split(DocumentKey.LevelSeparator);
        if (IsHierarchical(container) && levels.Length == 1 && levels[0].Length > 0)
        {
            return (levels, true);
        }

        return (FullLevels(container, partitionKey), false);
    }

    public static void ValidateId(string id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 255 || id.IndexOfAny(['/', '\\', '?', '#']) >= 0)
        {
            throw new ArgumentException($"Document id '{id}' must be 1-255 characters without '/', '\\', '?' or '#'.", nameof(id));
        }
    }

    /// <summary>
    /// Serialises a document with the app's JSON options, sets <c>id</c> and checks that the document carries the
    /// key's partition key values in the container's partition key properties.
    /// </summary>
    public static JsonObject ToJsonObject(ContainerDefinition container, DocumentKey key, object? document, Type type)
    {
        ValidateId(key.Id);
        var levels = FullLevels(container, key.PartitionKey);
        var node = JsonSerializer.SerializeToNode(document, type, Json) as JsonObject
            ?? throw new ArgumentException("A document must serialise to a JSON object.", nameof(document));
        if (node["id"] is { } existing && (existing.GetValueKind() != JsonValueKind.String || existing.GetValue<string>() != key.Id))
        {
            throw new ArgumentException($"The document's id property does not match the key's id '{key.Id}'.", nameof(document));
        }

        node["id"] = key.Id;
        for (var i = 0; i < levels.Length; i++)
        {
            var value = Navigate(node, container.PartitionKeyPaths[i]);
            if (value is null || value.GetValueKind() != JsonValueKind.String || value.GetValue<string>() != levels[i])
            {
                throw new ArgumentException(
                    $"The document's '{container.PartitionKeyPaths[i]}' must be '{levels[i]}' (from partition key '{key.PartitionKey}').",
                    nameof(document));
            }
        }

        return node;
    }

    private static JsonNode? Navigate(JsonObject node, string partitionKeyPath)
    {
        JsonNode? current = node;
        foreach (var segment in partitionKeyPath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current = (current as JsonObject)?[segment];
        }

        return current;
    }

    public static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Json) ?? throw new DocumentStoreException("A stored document deserialised to null.");

    public static void ValidateQuery(ContainerDefinition container, DocumentQuery query)
    {
        if (query.PageSize is < 1 or > MaxPageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.PageSize, $"PageSize must be between 1 and {MaxPageSize}.");
        }

        foreach (var filter in query.Filters)
        {
            var field = container.Field(filter.Field);
            var arrayOperator = filter.Operator == FilterOperator.ArrayContains;
            if (arrayOperator != (field.Type == FieldType.TextArray))
            {
                throw new ArgumentException(
                    $"Operator {filter.Operator} cannot be used on field '{field.Name}' of type {field.Type}; TextArray fields take ArrayContains only.",
                    nameof(query));
            }

            if (filter.Operator == FilterOperator.Contains && field.Type != FieldType.Text)
            {
                throw new ArgumentException($"Contains needs a Text field; '{field.Name}' is {field.Type}.", nameof(query));
            }

            if (filter.Value is null && filter.Operator is not (FilterOperator.Equals or FilterOperator.NotEquals))
            {
                throw new ArgumentException($"Operator {filter.Operator} on '{field.Name}' needs a value.", nameof(query));
            }

            _ = FilterValues(field, filter);
        }

        if (query.Sort is { } sort && container.Field(sort.Field).Type == FieldType.TextArray)
        {
            throw new ArgumentException($"Cannot sort on the array field '{sort.Field}'.", nameof(query));
        }
    }

    /// <summary>
    /// The filter's value(s) as JSON, exactly as the serialiser writes them into documents (enums as
    /// strings, instants as ISO 8601), checked against the field's type.
    /// </summary>
    public static IReadOnlyList<JsonElement> FilterValues(IndexedField field, QueryFilter filter)
    {
        var element = JsonSerializer.SerializeToElement(filter.Value, Json);
        if (filter.Operator == FilterOperator.In)
        {
            if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() == 0)
            {
                throw new ArgumentException($"In on '{field.Name}' needs a non-empty list of values.", nameof(filter));
            }

            var values = element.EnumerateArray().ToList();
            values.ForEach(v => CheckKind(field, v));
            return values;
        }

        if (element.ValueKind != JsonValueKind.Null)
        {
            CheckKind(field, element);
        }

        return [element];
    }

    private static void CheckKind(IndexedField field, JsonElement value)
    {
        var ok = field.Type switch
        {
            FieldType.Text or FieldType.TextArray => value.ValueKind == JsonValueKind.String,
            FieldType.Number => value.ValueKind == JsonValueKind.Number,
            FieldType.Boolean => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
            FieldType.Instant => value.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(value.GetString(), System.Globalization.CultureInfo.InvariantCulture, out _),
            _ => false,
        };
        if (!ok)
        {
            throw new ArgumentException($"Value {value.GetRawText()} does not fit field '{field.Name}' of type {field.Type}.", nameof(value));
        }
    }

    /// <summary>A canonical description of the query (container, partition, filters, sort) for the token checksum.</summary>
    public static string Fingerprint(ContainerDefinition container, DocumentQuery query)
    {
        var builder = new StringBuilder();
        builder.Append(container.Name).Append('\n').Append(query.PartitionKey ?? "\u0000*").Append('\n');
        foreach (var filter in query.Filters)
        {
            builder.Append(filter.Field).Append('\u0001').Append(filter.Operator).Append('\u0001')
                .Append(JsonSerializer.Serialize(filter.Value, Json)).Append('\n');
        }

        builder.Append("sort:").Append(query.Sort?.Field).Append(query.Sort?.Descending == true ? " desc" : " asc");
        return builder.ToString();
    }

    /// <summary>Wraps an adapter's position in a token whose checksum covers both the position and the query.</summary>
    public static string WrapToken(string fingerprint, JsonObject position)
    {
        var payload = position.ToJsonString();
        var envelope = new JsonObject
        {
            ["v"] = 1,
            ["p"] = payload,
            ["h"] = Checksum(fingerprint, payload),
        };
        return Base64Url(Encoding.UTF8.GetBytes(envelope.ToJsonString()));
    }

    public static JsonObject UnwrapToken(string fingerprint, string token)
    {
        JsonObject? envelope;
        try
        {
            envelope = JsonNode.Parse(FromBase64Url(token)) as JsonObject;
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException)
        {
            throw new InvalidContinuationTokenException("The continuation token is malformed.");
        }

        if (envelope?["v"]?.GetValueKind() != JsonValueKind.Number || envelope["v"]!.GetValue<int>() != 1
            || envelope["p"]?.GetValueKind() != JsonValueKind.String || envelope["h"]?.GetValueKind() != JsonValueKind.String)
        {
            throw new InvalidContinuationTokenException("The continuation token is malformed.");
        }

        var payload = envelope["p"]!.GetValue<string>();
        var expected = Checksum(fingerprint, payload);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(envelope["h"]!.GetValue<string>())))
        {
            throw new InvalidContinuationTokenException("The continuation token belongs to another query or was altered.");
        }

        try
        {
            return JsonNode.Parse(payload) as JsonObject ?? throw new InvalidContinuationTokenException("The continuation token is malformed.");
        }
        catch (JsonException)
        {
            throw new InvalidContinuationTokenException("The continuation token is malformed.");
        }
    }

    private static string Checksum(string fingerprint, string payload) =>
        Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(fingerprint + "\n\u0002" + payload)).AsSpan(0, 16));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string token)
    {
        var base64 = token.Replace('-', '+').Replace('_', '/');
        base64 += (base64.Length % 4) switch { 2 => "==", 3 => "=", 0 => string.Empty, _ => throw new FormatException() };
        return Convert.FromBase64String(base64);
    }

    public static string NewETag() => "\"" + Guid.NewGuid().ToString("N") + "\"";
}
