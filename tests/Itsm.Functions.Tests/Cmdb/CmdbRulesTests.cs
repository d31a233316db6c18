using System.Text.Json;
using Itsm.Functions.Cmdb;

namespace Itsm.Functions.Tests.Cmdb;

/// <summary>Per-class attribute validation and CI field rules, without storage.</summary>
public class CmdbRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    private static Dictionary<string, JsonElement> Attributes(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;

    [Fact]
    public void A_server_with_typed_attributes_is_accepted_and_keeps_their_values()
    {
        var errors = new Dictionary<string, string[]>();
        var ci = CiRules.Create(new CiFields { Class = "server", Name = "web-01", ExternalKey = "srv-1", Attributes = Attributes("""{"cpuCores":8,"memoryGb":31.5,"ipAddress":"10.0.0.4"}""") }, null, "contoso", "sam", Now, errors);

        Assert.Empty(errors);
        Assert.Equal(8, ci!.Attributes["cpuCores"].GetInt32());
        Assert.Equal(CiStatus.Operational, ci.Status);
        Assert.Equal(ConfigurationItem.IdFor("srv-1"), ci.Id);
    }

    [Fact]
    public void Unknown_attribute_wrong_type_bad_choice_and_unknown_class_are_each_reported_by_field()
    {
        var errors = new Dictionary<string, string[]>();
        CiRules.Create(new CiFields { Class = "server", Name = "web-01", Attributes = Attributes("""{"cpuCores":"eight","colour":"red","memoryGb":true}""") }, null, "contoso", "sam", Now, errors);
        var classErrors = new Dictionary<string, string[]>();
        CiRules.Create(new CiFields { Class = "toaster", Name = "t" }, null, "contoso", "sam", Now, classErrors);
        var choiceErrors = new Dictionary<string, string[]>();
        CiRules.Create(new CiFields { Class = "database", Name = "db", Attributes = Attributes("""{"engine":"excel"}""") }, null, "contoso", "sam", Now, choiceErrors);

        Assert.Equal(["attributes.colour", "attributes.cpuCores", "attributes.memoryGb"], errors.Keys.Order());
        Assert.Contains("whole number", errors["attributes.cpuCores"][0]);
        Assert.Contains("not an attribute of class 'server'", errors["attributes.colour"][0]);
        Assert.Contains("'toaster' is not a known class", classErrors["class"][0]);
        Assert.Contains("postgresql", choiceErrors["attributes.engine"][0]);
    }

    [Fact]
    public void A_tenant_class_with_a_required_attribute_is_enforced()
    {
        var tenant = new TenantCiClasses
        {
            TenantId = "contoso",
            Classes = [new CiClassDefinition("printer", "Printer", [new AttributeDefinition("floor", AttributeType.Integer, Required: true)])],
        };
        var missing = new Dictionary<string, string[]>();
        var ok = new Dictionary<string, string[]>();

        CiRules.Create(new CiFields { Class = "printer", Name = "p1" }, tenant, "contoso", "sam", Now, missing);
        var ci = CiRules.Create(new CiFields { Class = "printer", Name = "p1", Attributes = Attributes("""{"floor":3}""") }, tenant, "contoso", "sam", Now, ok);

        Assert.Equal(["is required for class 'printer'."], missing["attributes.floor"]);
        Assert.Empty(ok);
        Assert.Equal("printer", ci!.Class);
    }

    [Fact]
    public void Tenant_classes_cannot_redefine_built_in_classes_or_declare_choices_without_values()
    {
        var builtIn = CiClasses.ValidateDefinition(new CiClassDefinition("server", "My server", []));
        var choice = CiClasses.ValidateDefinition(new CiClassDefinition("printer", "Printer", [new AttributeDefinition("colour", AttributeType.Choice)]));

        Assert.Contains("built-in", builtIn["name"][0]);
        Assert.True(choice.ContainsKey("attributes[0].allowedValues"));
    }

    [Fact]
    public void Class_and_external_key_are_fixed_and_a_patch_merges_attributes()
    {
        var errors = new Dictionary<string, string[]>();
        var ci = CiRules.Create(new CiFields { Class = "server", Name = "web-01", ExternalKey = "srv-1", Attributes = Attributes("""{"cpuCores":8,"ipAddress":"10.0.0.4"}""") }, null, "contoso", "sam", Now, errors)!;
        var fixedErrors = new Dictionary<string, string[]>();
        CiRules.Apply(ci, new CiFields { Class = "database", ExternalKey = "other" }, null, replaceAttributes: false, Now, fixedErrors);
        var patched = CiRules.Apply(ci, new CiFields { Attributes = Attributes("""{"cpuCores":16,"ipAddress":null}""") }, null, replaceAttributes: false, Now.AddHours(1), new Dictionary<string, string[]>())!;

        Assert.Equal(["class", "externalKey"], fixedErrors.Keys.Order());
        Assert.Equal(16, patched.Attributes["cpuCores"].GetInt32());
        Assert.False(patched.Attributes.ContainsKey("ipAddress"));
        Assert.Contains(CiRules.Diff(ci, patched), c => c.Field == "attributes");
    }

    [Theory]
    [InlineData(AttributeType.Integer, "12", "12")]
    [InlineData(AttributeType.Number, "1.5", "1.5")]
    [InlineData(AttributeType.Boolean, "TRUE", "true")]
    public void Csv_cells_convert_to_typed_attribute_values(AttributeType type, string cell, string json)
    {
        var (value, error) = CiClasses.FromText(new AttributeDefinition("a", type), cell);

        Assert.Null(error);
        Assert.Equal(json, value!.Value.GetRawText());
    }

    [Theory]
    [InlineData(AttributeType.Integer, "1.5")]
    [InlineData(AttributeType.Number, "1,5")]
    [InlineData(AttributeType.Boolean, "yes")]
    public void Csv_cells_of_the_wrong_type_are_refused(AttributeType type, string cell)
    {
        var (value, error) = CiClasses.FromText(new AttributeDefinition("a", type), cell);

        Assert.Null(value);
        Assert.NotNull(error);
    }
}
