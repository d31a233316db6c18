using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Itsm.Functions.Hosting;

namespace Itsm.Functions.Catalog;

/// <summary>A CI an order refers to, to be checked against the CMDB (which the pure rules cannot read).</summary>
public sealed record CiReferenceCheck(string Variable, string CiId, IReadOnlyList<string>? Classes);

/// <summary>The answers of an order as they will be stored, every problem by field (<c>variables.{name}</c>), and the CIs to look up.</summary>
public sealed record VariableAnswers(
    IReadOnlyDictionary<string, JsonElement> Values,
    Dictionary<string, string[]> Errors,
    IReadOnlyList<CiReferenceCheck> CiReferences);

/// <summary>
/// The rules of an item's variables applied to an order's answers: the same rules the item's definition shows a form
/// (<c>GET /api/catalog/items/{id}</c>), so what a form accepts the server accepts. Pure: the day of the order is given,
/// and CI references are returned to be looked up.
/// </summary>
public static class CatalogVariables
{
    public const int DefaultTextLength = 200;
    public const int DefaultMultiLineLength = 4000;

    private static readonly TimeSpan PatternTimeout = TimeSpan.FromMilliseconds(100);

    public static VariableAnswers Evaluate(IReadOnlyList<CatalogVariable> variables, JsonElement? answers, DateOnly today)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        var cis = new List<CiReferenceCheck>();
        var given = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (answers is { ValueKind: JsonValueKind.Object } answerObject)
        {
            foreach (var property in answerObject.EnumerateObject())
            {
                if (variables.All(v => v.Name != property.Name))
                {
                    errors[$"variables.{property.Name}"] = ["is not a variable of this item."];
                }
                else
                {
                    given[property.Name] = property.Value;
                }
            }
        }
        else if (answers is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) })
        {
            errors["variables"] = ["must be an object of answers by variable name."];
            return new VariableAnswers(values, errors, cis);
        }

        foreach (var variable in variables)
        {
            var field = $"variables.{variable.Name}";
            if (!Holds(variable.VisibleWhen, values))
            {
                // Not shown for these answers: a form would not ask, so an answer to it is not kept.
                continue;
            }

            JsonElement? value = given.TryGetValue(variable.Name, out var answer) && answer.ValueKind != JsonValueKind.Null ? answer : variable.Default;
            if (value is { ValueKind: JsonValueKind.String } text && string.IsNullOrWhiteSpace(text.GetString()))
            {
                value = null;
            }

            if (value is { ValueKind: JsonValueKind.Array } list && list.GetArrayLength() == 0)
            {
                value = null;
            }

            var required = variable.Required || (variable.RequiredWhen is not null && Holds(variable.RequiredWhen, values));
            if (value is null)
            {
                if (required)
                {
                    errors[field] = [variable.RequiredWhen is not null && !variable.Required ? $"is required when {variable.RequiredWhen.Variable} is {string.Join(" or ", variable.RequiredWhen.Values)}." : "is required."];
                }

                continue;
            }

            var (problem, normalised) = Check(variable, value.Value, today);
            if (problem is not null)
            {
                errors[field] = [problem];
                continue;
            }

            values[variable.Name] = normalised!.Value;
            if (variable.Type == VariableType.CiReference)
            {
                cis.Add(new CiReferenceCheck(variable.Name, normalised.Value.GetString()!, variable.CiClasses));
            }
        }

        return new VariableAnswers(values, errors, cis);
    }

    /// <summary>Whether a condition holds for the answers so far (always, when there is none). An unanswered variable meets no condition.</summary>
    public static bool Holds(VariableCondition? condition, IReadOnlyDictionary<string, JsonElement> answers)
    {
        if (condition is null)
        {
            return true;
        }

        if (!answers.TryGetValue(condition.Variable, out var value))
        {
            return false;
        }

        return value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Any(item => condition.Values.Contains(Scalar(item), StringComparer.Ordinal))
            : condition.Values.Contains(Scalar(value), StringComparer.Ordinal);
    }

    /// <summary>One answer against its variable's rules: the reason it is refused, or the value to store (trimmed, choices in their declared order).</summary>
    public static (string? Problem, JsonElement? Value) Check(CatalogVariable variable, JsonElement value, DateOnly today, bool checkDates = true)
    {
        switch (variable.Type)
        {
            case VariableType.Text or VariableType.MultiLineText:
            {
                if (value.ValueKind != JsonValueKind.String)
                {
                    return ("must be a string.", null);
                }

                var text = value.GetString()!.Trim();
                var multiLine = variable.Type == VariableType.MultiLineText;
                var max = variable.MaxLength ?? (multiLine ? DefaultMultiLineLength : DefaultTextLength);
                if (text.Length > max)
                {
                    return ($"must be at most {max} characters.", null);
                }

                if (variable.MinLength is { } min && text.Length < min)
                {
                    return ($"must be at least {min} characters.", null);
                }

                if (TextRules.ControlCharacterProblem(text, multiLine) is { } control)
                {
                    return (control, null);
                }

                if (variable.Pattern is { } pattern)
                {
                    try
                    {
                        if (!Regex.IsMatch(text, $"^(?:{pattern})$", RegexOptions.None, PatternTimeout))
                        {
                            return (variable.PatternMessage ?? "does not have the expected format.", null);
                        }
                    }
                    catch (RegexMatchTimeoutException)
                    {
                        return ("could not be checked against its pattern in time; shorten it.", null);
                    }
                }

                return (null, JsonSerializer.SerializeToElement(text));
            }

            case VariableType.Number:
            {
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out var number))
                {
                    return ("must be a number.", null);
                }

                if (variable.Integer && number != decimal.Truncate(number))
                {
                    return ("must be a whole number.", null);
                }

                if (number < variable.Min)
                {
                    return ($"must be at least {variable.Min.Value.ToString(CultureInfo.InvariantCulture)}.", null);
                }

                if (number > variable.Max)
                {
                    return ($"must be at most {variable.Max.Value.ToString(CultureInfo.InvariantCulture)}.", null);
                }

                return (null, value.Clone());
            }

            case VariableType.Choice:
            {
                if (value.ValueKind != JsonValueKind.String)
                {
                    return ("must be one of the choices' values (a string).", null);
                }

                var choice = value.GetString()!;
                return (variable.Choices ?? []).Any(c => c.Value == choice)
                    ? (null, value.Clone())
                    : ($"must be one of: {string.Join(", ", (variable.Choices ?? []).Select(c => c.Value))}.", null);
            }

            case VariableType.MultiChoice:
            {
                if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String))
                {
                    return ("must be an array of the choices' values.", null);
                }

                var picked = value.EnumerateArray().Select(v => v.GetString()!).ToHashSet(StringComparer.Ordinal);
                var choices = variable.Choices ?? [];
                if (picked.FirstOrDefault(p => choices.All(c => c.Value != p)) is { } unknown)
                {
                    return ($"'{unknown}' is not one of: {string.Join(", ", choices.Select(c => c.Value))}.", null);
                }

                if (picked.Count < variable.MinSelected)
                {
                    return ($"must have at least {variable.MinSelected} values.", null);
                }

                if (picked.Count > variable.MaxSelected)
                {
                    return ($"must have at most {variable.MaxSelected} values.", null);
                }

                return (null, JsonSerializer.SerializeToElement(choices.Select(c => c.Value).Where(picked.Contains).ToArray()));
            }

            case VariableType.Date:
            {
                if (value.ValueKind != JsonValueKind.String
                    || !DateOnly.TryParseExact(value.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                {
                    return ("must be a date, YYYY-MM-DD.", null);
                }

                if (checkDates && variable.MinDaysFromToday is { } minDays && date < today.AddDays(minDays))
                {
                    return ($"must be on or after {today.AddDays(minDays):yyyy-MM-dd}.", null);
                }

                if (checkDates && variable.MaxDaysFromToday is { } maxDays && date > today.AddDays(maxDays))
                {
                    return ($"must be on or before {today.AddDays(maxDays):yyyy-MM-dd}.", null);
                }

                return (null, value.Clone());
            }

            case VariableType.User or VariableType.CiReference:
            {
                if (value.ValueKind != JsonValueKind.String)
                {
                    return (variable.Type == VariableType.User ? "must be a user id (a string)." : "must be a CI id (a string).", null);
                }

                var id = value.GetString()!.Trim();
                if (id.Length > 200 || id.Contains('|', StringComparison.Ordinal) || TextRules.ControlCharacterProblem(id, false) is not null)
                {
                    return ("is not a valid id.", null);
                }

                return (null, JsonSerializer.SerializeToElement(id));
            }

            case VariableType.AttachmentReference:
            {
                var address = value.ValueKind == JsonValueKind.String ? value.GetString()!.Trim() : null;
                if (address is null || address.Length > 2000 || !Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
                {
                    return ("must be the https address of the file (the product stores no files itself).", null);
                }

                return (null, JsonSerializer.SerializeToElement(address));
            }

            default:
                return ("has an unknown type.", null);
        }
    }

    /// <summary>An answer as text for conditions and summaries: a string as itself, a number in its JSON form.</summary>
    public static string Scalar(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();

    /// <summary>The answers as lines "Label: value", for the request's description (what agents and mail readers see).</summary>
    public static string Summary(IReadOnlyList<CatalogVariable> variables, IReadOnlyDictionary<string, JsonElement> values)
    {
        var lines = new List<string>();
        foreach (var variable in variables.Where(v => values.ContainsKey(v.Name)))
        {
            var value = values[variable.Name];
            var text = value.ValueKind == JsonValueKind.Array
                ? string.Join(", ", value.EnumerateArray().Select(v => Label(variable, Scalar(v))))
                : Label(variable, Scalar(value));
            lines.Add($"{variable.Label}: {text}");
        }

        return string.Join("\n", lines);
    }

    private static string Label(CatalogVariable variable, string value) =>
        variable.Choices?.FirstOrDefault(c => c.Value == value)?.Label ?? value;
}
