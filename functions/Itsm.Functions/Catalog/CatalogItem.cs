using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Catalog;

/// <summary>The kinds of answer a catalogue item asks for.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<VariableType>))]
public enum VariableType
{
    /// <summary>One line of text (a string).</summary>
    Text,

    /// <summary>Text that may hold line breaks (a string).</summary>
    MultiLineText,

    /// <summary>A JSON number.</summary>
    Number,

    /// <summary>One of <see cref="CatalogVariable.Choices"/> (its value, a string).</summary>
    Choice,

    /// <summary>Some of <see cref="CatalogVariable.Choices"/> (an array of values).</summary>
    MultiChoice,

    /// <summary>A calendar date, <c>YYYY-MM-DD</c>.</summary>
    Date,

    /// <summary>A person: their user id (the Entra object id in Azure).</summary>
    User,

    /// <summary>A configuration item of the tenant's CMDB, by id.</summary>
    CiReference,

    /// <summary>A file kept elsewhere (SharePoint, OneDrive): its absolute https address. The product stores no files.</summary>
    AttachmentReference,
}

public sealed record VariableChoice(string Value, string Label);

/// <summary>"Only when <see cref="Variable"/> (declared earlier) has one of <see cref="Values"/>": a multi-choice answer matches when any of its values does.</summary>
public sealed record VariableCondition(string Variable, IReadOnlyList<string> Values);

/// <summary>
/// One question of a catalogue item, with the rules a form shows and the server applies to an order: required (always,
/// or only when another answer has a given value), a default, limits (length, pattern, min/max, dates relative to the
/// day of the order, how many choices), and visibility (asked only when another answer has a given value).
/// </summary>
public sealed record CatalogVariable
{
    public required string Name { get; init; }

    public required string Label { get; init; }

    public required VariableType Type { get; init; }

    public bool Required { get; init; }

    /// <summary>The answer used when the order gives none (while the variable is shown).</summary>
    public JsonElement? Default { get; init; }

    public string? Help { get; init; }

    /// <summary>Text: at least this many characters.</summary>
    public int? MinLength { get; init; }

    /// <summary>Text: at most this many characters (default 200 for text, 4000 for multi-line text).</summary>
    public int? MaxLength { get; init; }

    /// <summary>Text: a .NET regular expression the whole answer must match.</summary>
    public string? Pattern { get; init; }

    /// <summary>What the form says when the pattern does not match (default: "does not have the expected format").</summary>
    public string? PatternMessage { get; init; }

    /// <summary>Number: the smallest allowed.</summary>
    public decimal? Min { get; init; }

    /// <summary>Number: the largest allowed.</summary>
    public decimal? Max { get; init; }

    /// <summary>Number: whole numbers only.</summary>
    public bool Integer { get; init; }

    /// <summary>Date: at the earliest this many days after the day of the order (UTC); negative for the past.</summary>
    public int? MinDaysFromToday { get; init; }

    /// <summary>Date: at the latest this many days after the day of the order (UTC).</summary>
    public int? MaxDaysFromToday { get; init; }

    /// <summary>Multi-choice: at least this many values.</summary>
    public int? MinSelected { get; init; }

    /// <summary>Multi-choice: at most this many values.</summary>
    public int? MaxSelected { get; init; }

    public IReadOnlyList<VariableChoice>? Choices { get; init; }

    /// <summary>CI reference: the CI classes allowed (any class when absent).</summary>
    public IReadOnlyList<string>? CiClasses { get; init; }

    /// <summary>Asked only when this condition holds; otherwise not shown, and an answer to it is ignored.</summary>
    public VariableCondition? VisibleWhen { get; init; }

    /// <summary>Required only when this condition holds (besides <see cref="Required"/>).</summary>
    public VariableCondition? RequiredWhen { get; init; }
}

/// <summary>Who may see and order an item: callers with one of the app roles or in one of the Entra groups (object ids). Both empty: everyone of the tenant.</summary>
public sealed record CatalogAudience(IReadOnlyList<string>? Roles = null, IReadOnlyList<string>? Groups = null)
{
    public bool IsEveryone => (Roles?.Count ?? 0) == 0 && (Groups?.Count ?? 0) == 0;

    public bool Includes(CallerPrincipal caller) =>
        IsEveryone
        || (Roles?.Any(caller.Roles.Contains) ?? false)
        || (Groups?.Any(caller.Groups.Contains) ?? false);

    public static bool Allows(CatalogAudience? audience, CallerPrincipal caller) => caller.IsAdmin || audience is null || audience.Includes(caller);
}

/// <summary>
/// One task of an item's fulfilment plan, for an assignment group. Tasks of the same <see cref="Stage"/> run in parallel;
/// stages run in ascending order, each once the tasks of the one before are finished. A task with <see cref="When"/>
/// is skipped when the order's answers do not meet it.
/// </summary>
public sealed record FulfilmentTaskDefinition(
    string Key,
    string Name,
    string AssignmentGroup,
    int Stage = 1,
    string? Description = null,
    VariableCondition? When = null);

/// <summary>What admins define for a catalogue item; each saved change is a new version.</summary>
public sealed partial record CatalogItemDefinition(
    string Name,
    string Category,
    string? Description = null,
    CatalogAudience? Audience = null,
    int? DeliveryTargetMinutes = null,
    string? ApprovalPolicy = null,
    IReadOnlyList<CatalogVariable>? Variables = null,
    IReadOnlyList<FulfilmentTaskDefinition>? Fulfilment = null,
    bool Active = true)
{
    public const int MaxVariables = 50;
    public const int MaxTasks = 20;

    /// <summary>Item, category and task keys: lower-case letters, digits and dashes.</summary>
    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    public static partial Regex IdPattern();

    [GeneratedRegex("^[a-zA-Z][a-zA-Z0-9_]{0,39}$")]
    private static partial Regex VariableName();

    /// <summary>
    /// Every problem of the definition by field path (<c>variables[2].pattern</c>, <c>fulfilment[0].assignmentGroup</c>):
    /// the rules a form would apply must themselves make sense, and every default must pass them.
    /// </summary>
    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        Text(errors, "name", Name, 200, required: true);
        Text(errors, "category", Category, 64, required: true);
        Text(errors, "description", Description, 10_000, required: false, multiLine: true);
        Text(errors, "approvalPolicy", ApprovalPolicy, 64, required: false);
        if (Category is { Length: > 0 } && !IdPattern().IsMatch(Category))
        {
            errors["category"] = ["must be a category id: lower-case letters, digits and dashes."];
        }

        if (DeliveryTargetMinutes is < 1 or > 366 * 24 * 60)
        {
            errors["deliveryTargetMinutes"] = ["must be between 1 and 527040 (a year) business minutes."];
        }

        if (Audience is { } audience)
        {
            foreach (var (role, i) in (audience.Roles ?? []).Select((r, i) => (r, i)))
            {
                if (!AppRoles.All.Contains(role))
                {
                    errors[$"audience.roles[{i}]"] = [$"'{role}' is not an app role ({string.Join(", ", AppRoles.All)})."];
                }
            }

            if ((audience.Groups?.Count ?? 0) > 50 || (audience.Groups ?? []).Any(g => string.IsNullOrWhiteSpace(g) || g.Length > 100))
            {
                errors["audience.groups"] = ["must be at most 50 group ids, each 1-100 characters."];
            }
        }

        var variables = Variables ?? [];
        if (variables.Count > MaxVariables)
        {
            errors["variables"] = [$"An item has at most {MaxVariables} variables."];
        }

        var earlier = new Dictionary<string, CatalogVariable>(StringComparer.Ordinal);
        for (var i = 0; i < variables.Count; i++)
        {
            if (variables[i] is null)
            {
                errors[$"variables[{i}]"] = ["must be an object."];
                continue;
            }

            ValidateVariable(errors, $"variables[{i}]", variables[i], earlier);
            if (variables[i] is { Name: { Length: > 0 } name } variable && !earlier.ContainsKey(name))
            {
                earlier[name] = variable;
            }
        }

        var tasks = Fulfilment ?? [];
        if (tasks.Count > MaxTasks)
        {
            errors["fulfilment"] = [$"A plan has at most {MaxTasks} tasks."];
        }

        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tasks.Count; i++)
        {
            var task = tasks[i];
            var at = $"fulfilment[{i}]";
            if (task is null)
            {
                errors[at] = ["must be an object."];
                continue;
            }

            if (task.Key is null || !IdPattern().IsMatch(task.Key))
            {
                errors[$"{at}.key"] = ["must be 1-64 lower-case letters, digits and dashes."];
            }
            else if (!keys.Add(task.Key))
            {
                errors[$"{at}.key"] = [$"'{task.Key}' is used by another task."];
            }

            Text(errors, $"{at}.name", task.Name, 200, required: true);
            Text(errors, $"{at}.assignmentGroup", task.AssignmentGroup, 100, required: true);
            Text(errors, $"{at}.description", task.Description, 4000, required: false, multiLine: true);
            if (task.Stage is < 1 or > MaxTasks)
            {
                errors[$"{at}.stage"] = [$"must be between 1 and {MaxTasks}."];
            }

            ValidateCondition(errors, $"{at}.when", task.When, earlier);
        }

        return errors;
    }

    private static void ValidateVariable(Dictionary<string, string[]> errors, string at, CatalogVariable variable, IReadOnlyDictionary<string, CatalogVariable> earlier)
    {
        if (variable.Name is null || !VariableName().IsMatch(variable.Name))
        {
            errors[$"{at}.name"] = ["must start with a letter and hold only letters, digits and '_' (at most 40)."];
        }
        else if (earlier.ContainsKey(variable.Name))
        {
            errors[$"{at}.name"] = [$"'{variable.Name}' is used by another variable."];
        }

        Text(errors, $"{at}.label", variable.Label, 200, required: true);
        Text(errors, $"{at}.help", variable.Help, 1000, required: false, multiLine: true);
        Text(errors, $"{at}.patternMessage", variable.PatternMessage, 200, required: false);
        var type = variable.Type;
        var text = type is VariableType.Text or VariableType.MultiLineText;
        Only(errors, at, "minLength", variable.MinLength is not null, text);
        Only(errors, at, "maxLength", variable.MaxLength is not null, text);
        Only(errors, at, "pattern", variable.Pattern is not null, type == VariableType.Text);
        Only(errors, at, "min", variable.Min is not null, type == VariableType.Number);
        Only(errors, at, "max", variable.Max is not null, type == VariableType.Number);
        Only(errors, at, "integer", variable.Integer, type == VariableType.Number);
        Only(errors, at, "minDaysFromToday", variable.MinDaysFromToday is not null, type == VariableType.Date);
        Only(errors, at, "maxDaysFromToday", variable.MaxDaysFromToday is not null, type == VariableType.Date);
        Only(errors, at, "minSelected", variable.MinSelected is not null, type == VariableType.MultiChoice);
        Only(errors, at, "maxSelected", variable.MaxSelected is not null, type == VariableType.MultiChoice);
        Only(errors, at, "choices", variable.Choices is not null, type is VariableType.Choice or VariableType.MultiChoice);
        Only(errors, at, "ciClasses", variable.CiClasses is not null, type == VariableType.CiReference);

        if (variable.MinLength is < 0 or > 10_000 || variable.MaxLength is < 1 or > 10_000)
        {
            errors[$"{at}.maxLength"] = ["Lengths are between 0 and 10000."];
        }
        else if (variable.MinLength > variable.MaxLength)
        {
            errors[$"{at}.minLength"] = ["must not be greater than maxLength."];
        }

        if (variable.Min > variable.Max)
        {
            errors[$"{at}.min"] = ["must not be greater than max."];
        }

        if (variable.MinDaysFromToday is < -36_600 or > 36_600 || variable.MaxDaysFromToday is < -36_600 or > 36_600)
        {
            errors[$"{at}.maxDaysFromToday"] = ["Days from today are between -36600 and 36600."];
        }
        else if (variable.MinDaysFromToday > variable.MaxDaysFromToday)
        {
            errors[$"{at}.minDaysFromToday"] = ["must not be greater than maxDaysFromToday."];
        }

        if (variable.Pattern is { } pattern)
        {
            if (pattern.Length is 0 or > 500)
            {
                errors[$"{at}.pattern"] = ["must be 1-500 characters."];
            }
            else
            {
                try
                {
                    _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromMilliseconds(100));
                }
                catch (ArgumentException)
                {
                    errors[$"{at}.pattern"] = ["is not a valid regular expression."];
                }
            }
        }

        if (type is VariableType.Choice or VariableType.MultiChoice)
        {
            var choices = variable.Choices ?? [];
            if (choices.Count is 0 or > 100)
            {
                errors[$"{at}.choices"] = ["A choice needs 1 to 100 choices."];
            }
            else if (choices.Any(c => string.IsNullOrWhiteSpace(c?.Value) || c.Value.Length > 100 || string.IsNullOrWhiteSpace(c.Label) || c.Label.Length > 200
                || TextRules.ControlCharacterProblem(c.Value, false) is not null || TextRules.ControlCharacterProblem(c.Label, false) is not null))
            {
                errors[$"{at}.choices"] = ["Each choice needs a value (1-100 characters) and a label (1-200 characters)."];
            }
            else if (choices.Select(c => c.Value).Distinct(StringComparer.Ordinal).Count() != choices.Count)
            {
                errors[$"{at}.choices"] = ["Choice values must be distinct."];
            }
        }

        if (variable.MinSelected is < 0 or > 100 || variable.MaxSelected is < 1 or > 100)
        {
            errors[$"{at}.maxSelected"] = ["Selections are between 0 and 100."];
        }
        else if (variable.MinSelected > variable.MaxSelected)
        {
            errors[$"{at}.minSelected"] = ["must not be greater than maxSelected."];
        }

        if (variable.CiClasses is { } classes && (classes.Count is 0 or > 20 || classes.Any(c => string.IsNullOrWhiteSpace(c) || c.Length > 64)))
        {
            errors[$"{at}.ciClasses"] = ["must be 1 to 20 CI class names."];
        }

        ValidateCondition(errors, $"{at}.visibleWhen", variable.VisibleWhen, earlier);
        ValidateCondition(errors, $"{at}.requiredWhen", variable.RequiredWhen, earlier);
        if (variable.Default is { } value && !errors.Keys.Any(k => k.StartsWith(at + ".", StringComparison.Ordinal)))
        {
            var problem = CatalogVariables.Check(variable, value, DateOnly.FromDateTime(DateTime.UnixEpoch), checkDates: false).Problem;
            if (problem is not null)
            {
                errors[$"{at}.default"] = [problem];
            }
            else if (type is VariableType.CiReference or VariableType.AttachmentReference or VariableType.User)
            {
                errors[$"{at}.default"] = ["A person, CI or attachment has no default."];
            }
        }
    }

    private static void ValidateCondition(Dictionary<string, string[]> errors, string at, VariableCondition? condition, IReadOnlyDictionary<string, CatalogVariable> earlier)
    {
        if (condition is null)
        {
            return;
        }

        if (condition.Variable is null || !earlier.TryGetValue(condition.Variable, out var source))
        {
            errors[$"{at}.variable"] = ["must name a variable declared before this one."];
            return;
        }

        if (source.Type is VariableType.MultiLineText or VariableType.AttachmentReference)
        {
            errors[$"{at}.variable"] = [$"'{source.Name}' is {source.Type}: a condition compares a choice, a text, a number, a date, a person or a CI."];
        }

        if (condition.Values is null || condition.Values.Count is 0 or > 50 || condition.Values.Any(v => v is null || v.Length > 200))
        {
            errors[$"{at}.values"] = ["must be 1 to 50 values."];
        }
        else if (source.Choices is { } choices && condition.Values.FirstOrDefault(v => choices.All(c => c.Value != v)) is { } unknown)
        {
            errors[$"{at}.values"] = [$"'{unknown}' is not a choice of '{source.Name}'."];
        }
    }

    private static void Only(Dictionary<string, string[]> errors, string at, string field, bool present, bool applies)
    {
        if (present && !applies)
        {
            errors[$"{at}.{field}"] = ["does not apply to this type of variable."];
        }
    }

    private static void Text(Dictionary<string, string[]> errors, string field, string? value, int max, bool required, bool multiLine = false)
    {
        if (required && string.IsNullOrWhiteSpace(value))
        {
            errors[field] = ["is required."];
        }
        else if (value?.Length > max)
        {
            errors[field] = [$"has at most {max} characters."];
        }
        else if (TextRules.ControlCharacterProblem(value, multiLine) is { } control)
        {
            errors[field] = [control];
        }
    }
}

/// <summary>A catalogue category: items are listed under it.</summary>
public sealed record CatalogCategoryDefinition(string Name, string? Description = null, int Order = 100);

/// <summary>One version of an item as stored: the current one (<c>catalog-item</c>) and each version (<c>catalog-item-version</c>), never changed once written.</summary>
public sealed record CatalogItemDocument(
    string Id,
    string TenantId,
    string DocType,
    string ItemId,
    int Version,
    CatalogItemDefinition Item,
    DateTimeOffset UpdatedAt,
    string UpdatedBy);

public sealed record CatalogCategoryDocument(
    string Id,
    string TenantId,
    string DocType,
    string CategoryId,
    int Version,
    CatalogCategoryDefinition Category,
    DateTimeOffset UpdatedAt,
    string UpdatedBy);

/// <summary>An admin's change to the catalogue (an item's new version, a category saved), kept in the <c>catalog</c> container.</summary>
public sealed record CatalogAuditEvent(
    string Id,
    string TenantId,
    string DocType,
    string Target,
    string Action,
    string Actor,
    DateTimeOffset At,
    int Version,
    IReadOnlyList<FieldChange> Changes);

/// <summary>What a service request ordered from the catalogue carries: the item, the version it was ordered from and the answers.</summary>
public sealed record CatalogRequest(
    string ItemId,
    int Version,
    string Name,
    string Category,
    IReadOnlyDictionary<string, JsonElement> Variables,
    string? ApprovalPolicy = null,
    int? DeliveryTargetMinutes = null);
