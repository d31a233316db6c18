using System.Text.Json;
using Itsm.Functions.Catalog;

namespace Itsm.Functions.Tests.Catalog;

/// <summary>The rules of an item's variables, as a form shows them and the server applies them to an order.</summary>
public class CatalogVariableRulesTests
{
    private static readonly DateOnly Today = new(2026, 3, 2);

    private static JsonElement Answers(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static CatalogVariable Variable(string name, VariableType type, bool required = false) =>
        new() { Name = name, Label = name, Type = type, Required = required };

    private static readonly VariableChoice[] Sizes = [new("s", "Small"), new("m", "Medium"), new("l", "Large")];

    [Fact]
    public void Every_failing_variable_is_named_with_its_reason_and_nothing_is_kept_of_unknown_answers()
    {
        CatalogVariable[] variables =
        [
            Variable("reason", VariableType.Text, required: true),
            Variable("count", VariableType.Number) with { Min = 1, Max = 5, Integer = true },
            Variable("size", VariableType.Choice) with { Choices = Sizes },
        ];

        var result = CatalogVariables.Evaluate(variables, Answers("""{"count":7,"size":"xl","colour":"red"}"""), Today);

        Assert.Equal(["variables.colour", "variables.count", "variables.reason", "variables.size"], result.Errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("is required.", result.Errors["variables.reason"][0]);
        Assert.Equal("must be at most 5.", result.Errors["variables.count"][0]);
        Assert.Equal("must be one of: s, m, l.", result.Errors["variables.size"][0]);
        Assert.Equal("is not a variable of this item.", result.Errors["variables.colour"][0]);
    }

    [Fact]
    public void A_default_fills_an_unanswered_variable_and_text_is_trimmed()
    {
        CatalogVariable[] variables =
        [
            Variable("size", VariableType.Choice, required: true) with { Choices = Sizes, Default = JsonSerializer.SerializeToElement("m") },
            Variable("note", VariableType.Text),
        ];

        var result = CatalogVariables.Evaluate(variables, Answers("""{"note":"  for the new starter  "}"""), Today);

        Assert.Empty(result.Errors);
        Assert.Equal("m", result.Values["size"].GetString());
        Assert.Equal("for the new starter", result.Values["note"].GetString());
    }

    [Theory]
    [InlineData("\"ab\"", "must be at least 3 characters.")]
    [InlineData("\"abcdefghijk\"", "must be at most 10 characters.")]
    [InlineData("\"abc-1\"", "Use letters only.")]
    [InlineData("12", "must be a string.")]
    public void Text_answers_are_held_to_their_length_and_pattern(string answer, string reason)
    {
        var variable = Variable("code", VariableType.Text) with { MinLength = 3, MaxLength = 10, Pattern = "[a-z]+", PatternMessage = "Use letters only." };

        var result = CatalogVariables.Evaluate([variable], Answers($$"""{"code":{{answer}}}"""), Today);

        Assert.Equal(reason, Assert.Single(result.Errors).Value[0]);
    }

    [Fact]
    public void A_pattern_that_backtracks_catastrophically_is_stopped_by_its_timeout_not_left_running()
    {
        var variable = Variable("code", VariableType.Text) with { MaxLength = 10_000, Pattern = "(a+)+b" };
        var answer = JsonSerializer.Serialize(new { code = new string('a', 5000) + "c" });

        var started = System.Diagnostics.Stopwatch.StartNew();
        var result = CatalogVariables.Evaluate([variable], Answers(answer), Today);

        Assert.Contains("in time", Assert.Single(result.Errors).Value[0], StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"took {started.Elapsed}");
    }

    [Fact]
    public void Dates_are_checked_relative_to_the_day_of_the_order()
    {
        var variable = Variable("start", VariableType.Date) with { MinDaysFromToday = 2, MaxDaysFromToday = 30 };

        Assert.Equal("must be on or after 2026-03-04.", CatalogVariables.Evaluate([variable], Answers("""{"start":"2026-03-03"}"""), Today).Errors["variables.start"][0]);
        Assert.Equal("must be on or before 2026-04-01.", CatalogVariables.Evaluate([variable], Answers("""{"start":"2026-04-02"}"""), Today).Errors["variables.start"][0]);
        Assert.Equal("must be a date, YYYY-MM-DD.", CatalogVariables.Evaluate([variable], Answers("""{"start":"3/4/2026"}"""), Today).Errors["variables.start"][0]);
        Assert.Empty(CatalogVariables.Evaluate([variable], Answers("""{"start":"2026-03-04"}"""), Today).Errors);
    }

    [Fact]
    public void Multi_choice_answers_keep_the_declared_order_and_respect_how_many_may_be_picked()
    {
        var variable = Variable("sizes", VariableType.MultiChoice) with { Choices = Sizes, MinSelected = 1, MaxSelected = 2 };

        var ok = CatalogVariables.Evaluate([variable], Answers("""{"sizes":["l","s"]}"""), Today);
        Assert.Equal(["s", "l"], ok.Values["sizes"].EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("must have at most 2 values.", CatalogVariables.Evaluate([variable], Answers("""{"sizes":["s","m","l"]}"""), Today).Errors["variables.sizes"][0]);
        Assert.Equal("'xl' is not one of: s, m, l.", CatalogVariables.Evaluate([variable], Answers("""{"sizes":["xl"]}"""), Today).Errors["variables.sizes"][0]);
    }

    [Fact]
    public void A_variable_shown_only_for_some_answers_is_ignored_otherwise_and_may_become_required()
    {
        CatalogVariable[] variables =
        [
            Variable("kind", VariableType.Choice, required: true) with { Choices = [new("laptop", "Laptop"), new("phone", "Phone")] },
            Variable("os", VariableType.Choice) with { Choices = [new("win", "Windows"), new("mac", "macOS")], VisibleWhen = new VariableCondition("kind", ["laptop"]), RequiredWhen = new VariableCondition("kind", ["laptop"]) },
        ];

        var phone = CatalogVariables.Evaluate(variables, Answers("""{"kind":"phone","os":"win"}"""), Today);
        Assert.Empty(phone.Errors);
        Assert.False(phone.Values.ContainsKey("os"));

        var laptop = CatalogVariables.Evaluate(variables, Answers("""{"kind":"laptop"}"""), Today);
        Assert.Equal("is required when kind is laptop.", laptop.Errors["variables.os"][0]);
    }

    [Fact]
    public void References_must_be_ids_and_attachments_https_addresses_and_CIs_are_returned_to_be_looked_up()
    {
        CatalogVariable[] variables =
        [
            Variable("forUser", VariableType.User),
            Variable("server", VariableType.CiReference) with { CiClasses = ["Server"] },
            Variable("quote", VariableType.AttachmentReference),
        ];

        var ok = CatalogVariables.Evaluate(variables, Answers("""{"forUser":"ana","server":"srv-01","quote":"https://contoso.sharepoint.com/q.pdf"}"""), Today);
        Assert.Empty(ok.Errors);
        var ci = Assert.Single(ok.CiReferences);
        Assert.Equal(("server", "srv-01", "Server"), (ci.Variable, ci.CiId, Assert.Single(ci.Classes!)));

        var bad = CatalogVariables.Evaluate(variables, Answers("""{"forUser":5,"quote":"http://example.com/q.pdf"}"""), Today);
        Assert.Equal(["variables.forUser", "variables.quote"], bad.Errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_definition_whose_rules_make_no_sense_is_refused_field_by_field()
    {
        var item = new CatalogItemDefinition(
            "Laptop",
            "Hardware",
            Variables:
            [
                Variable("size", VariableType.Choice) with { Choices = [] },
                Variable("count", VariableType.Number) with { Min = 5, Max = 1, Pattern = "x" },
                Variable("code", VariableType.Text) with { Pattern = "([a-z" },
                Variable("os", VariableType.Text) with { VisibleWhen = new VariableCondition("later", ["x"]) },
                Variable("later", VariableType.Number) with { Default = JsonSerializer.SerializeToElement("ten") },
                Variable("count", VariableType.Number),
            ],
            Fulfilment: [new FulfilmentTaskDefinition("prepare", "Prepare", ""), new FulfilmentTaskDefinition("prepare", "Again", "desk", Stage: 0)]);

        var errors = item.Validate();

        Assert.Equal(
            [
                "category", "fulfilment[0].assignmentGroup", "fulfilment[1].key", "fulfilment[1].stage",
                "variables[0].choices", "variables[1].min", "variables[1].pattern", "variables[2].pattern",
                "variables[3].visibleWhen.variable", "variables[4].default", "variables[5].name",
            ],
            errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_answers_become_readable_lines_with_choice_labels()
    {
        CatalogVariable[] variables =
        [
            Variable("size", VariableType.Choice) with { Label = "Size", Choices = Sizes },
            Variable("count", VariableType.Number) with { Label = "How many" },
        ];

        var result = CatalogVariables.Evaluate(variables, Answers("""{"size":"l","count":2}"""), Today);

        Assert.Equal("Size: Large\nHow many: 2", CatalogVariables.Summary(variables, result.Values));
    }
}
