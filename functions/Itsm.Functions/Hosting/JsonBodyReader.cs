using System.Text.Json;
using System.Text.RegularExpressions;

namespace Itsm.Functions.Hosting;

/// <summary>
/// Reads a JSON request body field by field and collects every problem (unknown field, wrong type, out of
/// bounds, missing) under its field path, so a caller gets all of them in one 400 problem.
/// </summary>
public sealed partial class JsonBodyReader
{
    private readonly JsonElement _object;
    private readonly string _prefix;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    private JsonBodyReader(JsonElement element, string prefix, Dictionary<string, string[]> errors)
    {
        _object = element;
        _prefix = prefix;
        Errors = errors;
    }

    public Dictionary<string, string[]> Errors { get; }

    /// <summary>The JSON text of the object this reader reads.</summary>
    public string RawJson => _object.GetRawText();

    public bool HasErrors => Errors.Count > 0;

    /// <summary>Null (with an error recorded) when the body is empty, not JSON or not an object.</summary>
    public static JsonBodyReader? Parse(string? body, out Dictionary<string, string[]> errors)
    {
        errors = [];
        if (string.IsNullOrWhiteSpace(body))
        {
            errors["$"] = ["A JSON object body is required."];
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                errors["$"] = ["The body must be a JSON object."];
                return null;
            }

            // Whatever the request's media type said, a string that cannot be decoded is refused here, not thrown later.
            if (JsonText.StringProblem(System.Text.Encoding.UTF8.GetBytes(body)) is { } problem)
            {
                errors["$"] = [problem];
                return null;
            }

            return new JsonBodyReader(document.RootElement.Clone(), "", errors);
        }
        catch (JsonException ex)
        {
            errors["$"] = [$"The body is not valid JSON ({ex.Message.Split('.')[0]})."];
            return null;
        }
    }

    public bool Has(string name)
    {
        _known.Add(name);
        return _object.TryGetProperty(name, out _);
    }

    /// <summary>True when the property is present with the value null (a merge-patch "clear this field").</summary>
    public bool IsExplicitNull(string name)
    {
        _known.Add(name);
        return _object.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Null;
    }

    /// <summary>Names of the properties present (known or not).</summary>
    public IEnumerable<string> PresentNames => _object.EnumerateObject().Select(p => p.Name);

    /// <summary>A string, trimmed; <paramref name="multiLine"/> fields may hold tabs and line breaks, no field other control characters.</summary>
    public string? String(string name, bool required = false, int maxLength = 200, Regex? pattern = null, bool multiLine = false)
    {
        if (!TryGet(name, required, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            return Fail<string>(name, "must be a string.");
        }

        var text = value.GetString()!.Trim();
        if (required && text.Length == 0)
        {
            return Fail<string>(name, "must not be empty.");
        }

        if (text.Length > maxLength)
        {
            return Fail<string>(name, $"must be at most {maxLength} characters.");
        }

        if (TextRules.ControlCharacterProblem(text, multiLine) is { } control)
        {
            return Fail<string>(name, control);
        }

        if (pattern is not null && !pattern.IsMatch(text))
        {
            return Fail<string>(name, "has an invalid format.");
        }

        return text;
    }

    public int? Int(string name, int min, int max, bool required = false)
    {
        if (!TryGet(name, required, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
        {
            return FailValue<int>(name, "must be a whole number.");
        }

        return number < min || number > max ? FailValue<int>(name, $"must be between {min} and {max}.") : number;
    }

    public bool? Bool(string name)
    {
        if (!TryGet(name, false, out var value))
        {
            return null;
        }

        return value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : FailValue<bool>(name, "must be true or false.");
    }

    public DateTimeOffset? Instant(string name, bool required = false)
    {
        if (!TryGet(name, required, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out var instant) && HasOffset(value.GetString()!)
            ? instant
            : FailValue<DateTimeOffset>(name, "must be an ISO 8601 instant with a time zone offset, e.g. 2026-03-02T08:00:00Z.");
    }

    public TEnum? Enum<TEnum>(string name, bool required = false, IReadOnlyCollection<TEnum>? allowed = null)
        where TEnum : struct, Enum
    {
        if (!TryGet(name, required, out var value))
        {
            return null;
        }

        var choices = allowed ?? System.Enum.GetValues<TEnum>();
        if (value.ValueKind == JsonValueKind.String
            && System.Enum.TryParse<TEnum>(value.GetString(), ignoreCase: false, out var parsed)
            && !int.TryParse(value.GetString(), out _)
            && choices.Contains(parsed))
        {
            return parsed;
        }

        return FailValue<TEnum>(name, $"must be one of: {string.Join(", ", choices)}.");
    }

    public IReadOnlyList<string>? StringList(string name, int maxItems, int maxLength = 100)
    {
        if (!TryGet(name, false, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            return Fail<IReadOnlyList<string>>(name, "must be an array of strings.");
        }

        var items = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()) || item.GetString()!.Length > maxLength)
            {
                return Fail<IReadOnlyList<string>>(name, $"must contain non-empty strings of at most {maxLength} characters.");
            }

            if (TextRules.ControlCharacterProblem(item.GetString(), multiLine: false) is { } control)
            {
                return Fail<IReadOnlyList<string>>(name, control);
            }

            items.Add(item.GetString()!.Trim());
        }

        return items.Count > maxItems ? Fail<IReadOnlyList<string>>(name, $"must have at most {maxItems} items.") : items.Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>A nested object read with its own reader (field paths prefixed), or null when absent.</summary>
    public JsonBodyReader? Object(string name, bool required = false)
    {
        if (!TryGet(name, required, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            return Fail<JsonBodyReader>(name, "must be an object.");
        }

        return new JsonBodyReader(value, Path(name) + ".", Errors);
    }

    /// <summary>An array of objects, each read with its own reader (field paths <c>name[i].</c>), or null when absent.</summary>
    public IReadOnlyList<JsonBodyReader>? ObjectList(string name, int maxItems)
    {
        if (!TryGet(name, false, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            return Fail<IReadOnlyList<JsonBodyReader>>(name, "must be an array of objects.");
        }

        if (value.GetArrayLength() > maxItems)
        {
            return Fail<IReadOnlyList<JsonBodyReader>>(name, $"must have at most {maxItems} items.");
        }

        var readers = new List<JsonBodyReader>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var path = $"{Path(name)}[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                Errors[path] = ["must be an object."];
                continue;
            }

            readers.Add(new JsonBodyReader(item, path + ".", Errors));
        }

        return readers;
    }

    /// <summary>An array of whole numbers in [<paramref name="min"/>, <paramref name="max"/>], distinct and ascending, or null when absent.</summary>
    public IReadOnlyList<int>? IntList(string name, int maxItems, int min, int max)
    {
        if (!TryGet(name, false, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() > maxItems)
        {
            return Fail<IReadOnlyList<int>>(name, $"must be an array of at most {maxItems} whole numbers.");
        }

        var numbers = new List<int>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out var number) || number < min || number > max)
            {
                return Fail<IReadOnlyList<int>>(name, $"must contain whole numbers between {min} and {max}.");
            }

            numbers.Add(number);
        }

        return numbers.Distinct().Order().ToArray();
    }

    /// <summary>A JSON object of whole numbers keyed by name (e.g. minutes per priority), or null when absent.</summary>
    public IReadOnlyDictionary<string, int>? IntMap(string name, int min, int max)
    {
        var reader = Object(name);
        if (reader is null)
        {
            return null;
        }

        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var property in reader._object.EnumerateObject())
        {
            var value = reader.Int(property.Name, min, max, required: true);
            if (value is not null)
            {
                result[property.Name] = value.Value;
            }
        }

        return result;
    }

    /// <summary>Bounded custom fields: up to <paramref name="maxFields"/> keys, values string, number or boolean.</summary>
    public IReadOnlyDictionary<string, JsonElement>? CustomFields(string name, int maxFields = 20, int maxLength = 1000)
    {
        var reader = Object(name);
        if (reader is null)
        {
            return null;
        }

        var result = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in reader._object.EnumerateObject())
        {
            reader._known.Add(property.Name);
            var path = reader.Path(property.Name);
            if (!CustomFieldName().IsMatch(property.Name))
            {
                Errors[path] = ["Custom field names start with a letter and contain only letters, digits and '_' (at most 40)."];
            }
            else if (property.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
                || (property.Value.ValueKind == JsonValueKind.String && property.Value.GetString()!.Length > maxLength))
            {
                Errors[path] = [$"Custom field values are strings (at most {maxLength} characters), numbers or booleans."];
            }
            else if (property.Value.ValueKind == JsonValueKind.String && TextRules.ControlCharacterProblem(property.Value.GetString(), multiLine: true) is { } control)
            {
                Errors[path] = [control];
            }
            else
            {
                result[property.Name] = property.Value.Clone();
            }
        }

        if (result.Count > maxFields)
        {
            Errors[Path(name)] = [$"At most {maxFields} custom fields."];
        }

        return result;
    }

    /// <summary>Records an error for each property that no read asked for.</summary>
    public void RejectUnknown()
    {
        foreach (var property in _object.EnumerateObject())
        {
            if (!_known.Contains(property.Name))
            {
                Errors[Path(property.Name)] = ["is not a known field."];
            }
        }
    }

    public void AddError(string name, string reason) => Errors[Path(name)] = [reason];

    private bool TryGet(string name, bool required, out JsonElement value)
    {
        _known.Add(name);
        if (!_object.TryGetProperty(name, out value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Errors[Path(name)] = ["is required."];
            }

            return false;
        }

        return true;
    }

    private string Path(string name) => _prefix + name;

    private T? Fail<T>(string name, string reason)
        where T : class
    {
        Errors[Path(name)] = [reason];
        return null;
    }

    private T? FailValue<T>(string name, string reason)
        where T : struct
    {
        Errors[Path(name)] = [reason];
        return null;
    }

    private static bool HasOffset(string text) => text.EndsWith('Z') || OffsetSuffix().IsMatch(text);

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,39}$")]
    private static partial Regex CustomFieldName();

    [GeneratedRegex(@"[+-]\d{2}:\d{2}$")]
    private static partial Regex OffsetSuffix();
}
