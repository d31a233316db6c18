using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Storage.Cosmos;
using Itsm.Functions.Tests.Support;
using Microsoft.Azure.Cosmos;
using Xunit.Sdk;

namespace Itsm.Functions.Tests.Deployment;

/// <summary>
/// infra/ and the code must agree on every name they share: app settings, queues, the Cosmos database, containers,
/// partition keys and indexing policies, the Durable task hub. The Bicep files are read as text by
/// <see cref="BicepFile"/> (no compiler here; see its limits), so these tests catch drift, not Bicep errors.
/// </summary>
public partial class InfraConsistencyTests
{
    private static readonly BicepFile Main = BicepFile.Load("infra/main.bicep");
    private static readonly BicepFile Api = BicepFile.Load("infra/app/api.bicep");
    private static readonly BicepFile Cosmos = BicepFile.Load("infra/app/cosmos.bicep");
    private static readonly BicepFile Storage = BicepFile.Load("infra/app/storage.bicep");

    private static BicepObject AppSettings => Api.Var("appSettings") as BicepObject
        ?? throw new InvalidOperationException("infra/app/api.bicep: `var appSettings` is not an object literal.");

    /// <summary>Every Storage queue a function reads (<c>[QueueTrigger]</c>) or writes (<c>[QueueOutput]</c> on its result), with its connection.</summary>
    private static IReadOnlyList<(string Function, string Queue, string Connection)> QueueBindings =>
        FunctionIndex.ForApp().Functions
            .SelectMany(f =>
            {
                var bindings = new List<(string, string, string)>();
                if (f.Queue is { } trigger)
                {
                    bindings.Add((f.Name, trigger.QueueName, trigger.Connection ?? "AzureWebJobsStorage"));
                }

                var result = f.Method.ReturnType.IsGenericType ? f.Method.ReturnType.GetGenericArguments()[0] : f.Method.ReturnType;
                bindings.AddRange(result.GetProperties()
                    .Select(p => p.GetCustomAttributes(typeof(Microsoft.Azure.Functions.Worker.QueueOutputAttribute), false).OfType<Microsoft.Azure.Functions.Worker.QueueOutputAttribute>().FirstOrDefault())
                    .OfType<Microsoft.Azure.Functions.Worker.QueueOutputAttribute>()
                    .Select(o => (f.Name, o.QueueName, o.Connection ?? "AzureWebJobsStorage")));
                return bindings;
            })
            .ToList();

    /// <summary>Identity-based connection of a binding or of the host: the three settings of a user-assigned identity.</summary>
    private static string[] IdentityConnectionSettings(string connection, string endpointProperty) =>
        [$"{connection}__{endpointProperty}", $"{connection}__credential", $"{connection}__clientId"];

    [Fact]
    public void Every_setting_the_app_needs_under_the_functions_host_is_set_by_api_bicep()
    {
        var expected = new List<(string Setting, string Why)>();

        // What the app refuses to start without (taken from its own validation, not copied here).
        foreach (var name in AppSettingNames.NamedIn(AppSettingNames.StartUnderFunctionsHostWithoutSettings().Errors))
        {
            expected.Add((AppSettingNames.AsAppSetting(name), "the app refuses to start without it"));
        }

        // Settings with a default that is wrong or fragile in Azure, so the deployment pins them.
        foreach (var (name, why) in new[]
        {
            (StorageServiceCollectionExtensions.ProviderSetting, "the deployed app must use Cosmos DB explicitly"),
            (AppSettingNames.Setting<CosmosStoreOptions>(CosmosStoreOptions.SectionName, nameof(CosmosStoreOptions.DatabaseName)), "the database infra creates"),
            (AppSettingNames.Setting<CosmosStoreOptions>(CosmosStoreOptions.SectionName, nameof(CosmosStoreOptions.ManagedIdentityClientId)), "the user-assigned identity, not DefaultAzureCredential's guess"),
            (AppSettingNames.Setting<AuthOptions>(AuthOptions.SectionName, nameof(AuthOptions.Instance)), "the cloud's login endpoint"),
            (AppSettingNames.Setting<AuthOptions>(AuthOptions.SectionName, nameof(AuthOptions.PlatformAuthenticationEnabled)), "App Service Authentication is on in Azure"),
        })
        {
            expected.Add((AppSettingNames.AsAppSetting(name), why));
        }

        // The Functions host's own storage (leases, keys, Durable task hub) and each queue connection, identity-based.
        foreach (var connection in QueueBindings.Select(b => b.Connection).Append("AzureWebJobsStorage").Distinct(StringComparer.Ordinal))
        {
            expected.AddRange(IdentityConnectionSettings(connection, "accountName").Select(s => (s, "Storage connection of the host and the queue bindings")));
        }

        var set = AppSettings.Keys.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var missing = expected.Where(e => !set.Contains(e.Setting)).Select(e => $"{e.Setting} ({e.Why})").Distinct().ToList();
        Assert.True(missing.Count == 0, $"infra/app/api.bicep `appSettings` lacks: {string.Join("; ", missing)}");
    }

    [Fact]
    public void Every_Itsm_setting_in_api_bicep_is_one_the_app_reads()
    {
        var unknown = AppSettings.Keys
            .Where(k => k.StartsWith("Itsm__", StringComparison.OrdinalIgnoreCase))
            .Where(k => !AppSettingNames.Known.Contains(AppSettingNames.AsConfigurationKey(k)))
            .ToList();

        Assert.True(
            unknown.Count == 0,
            $"infra/app/api.bicep sets {string.Join(", ", unknown)}, which no options class of the app reads (ItsmOptions, AuthOptions, CosmosStoreOptions, GraphOptions, Itsm:Store:Provider). Remove it or add it to the options it belongs to.");
    }

    [Fact]
    public void Api_bicep_sets_no_development_only_setting_and_no_connection_string()
    {
        string[] developmentOnly =
        [
            AppSettingNames.Setting<CosmosStoreOptions>(CosmosStoreOptions.SectionName, nameof(CosmosStoreOptions.Key)),
            AppSettingNames.Setting<CosmosStoreOptions>(CosmosStoreOptions.SectionName, nameof(CosmosStoreOptions.AllowInsecureEmulatorCertificate)),
            AppSettingNames.Setting<AuthOptions>(AuthOptions.SectionName, nameof(AuthOptions.Mode)),
            AppSettingNames.Setting<AuthOptions>(AuthOptions.SectionName, nameof(AuthOptions.DevKeyPath)),
        ];
        var connectionStrings = QueueBindings.Select(b => b.Connection).Append("AzureWebJobsStorage").Distinct(StringComparer.Ordinal);
        var forbidden = developmentOnly.Select(AppSettingNames.AsAppSetting).Concat(connectionStrings).ToHashSet(StringComparer.OrdinalIgnoreCase);

        var found = AppSettings.Keys.Where(forbidden.Contains).ToList();

        Assert.True(found.Count == 0, $"infra/app/api.bicep sets {string.Join(", ", found)}: development-only settings (keys, dev tokens, insecure certificates) or connection strings, where identity-based settings belong.");
    }

    [Fact]
    public void No_key_or_connection_string_appears_anywhere_in_infra()
    {
        string[] patterns =
        [
            "AccountKey=", "SharedAccessKey=", "SharedAccessSignature=", "listKeys(", "listConnectionStrings(", "listAccountSas(",
            "listServiceSas(", "primaryMasterKey", "primaryConnectionString", "secondaryConnectionString",
        ];
        var findings = new List<string>();
        foreach (var path in Directory.EnumerateFiles(Repository.PathOf("infra"), "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Repository.Root, path).Replace('\\', '/');
            // Bicep without its comments (a comment may name what is not done); scripts and JSON as they are.
            var text = path.EndsWith(".bicep", StringComparison.Ordinal) ? BicepFile.Load(relative).Code.Replace(" ", string.Empty, StringComparison.Ordinal) : File.ReadAllText(path);
            findings.AddRange(patterns.Where(p => text.Contains(p, StringComparison.OrdinalIgnoreCase)).Select(p => $"{relative}: {p}"));
        }

        Assert.True(findings.Count == 0, $"Secret-looking text in infra/ (the deployment uses Entra ID only): {string.Join("; ", findings)}");
    }

    [Fact]
    public void Every_storage_queue_the_functions_use_exists_in_storage_bicep()
    {
        var queues = Storage.ModuleParams("storageAccount")["queueServices"] is BicepObject services ? services["queues"] as BicepArray : null;
        var declared = (queues?.Items ?? []).Select(q => ResolveString(Storage, (q as BicepObject)?["name"], "queue name")).ToHashSet(StringComparer.Ordinal);

        var used = QueueBindings.Select(b => (b.Queue, b.Function)).ToList();
        Assert.Contains(used, u => u.Queue == "intake");
        var missing = used.Where(u => !declared.Contains(u.Queue)).Select(u => $"'{u.Queue}' (function {u.Function})").Distinct().ToList();

        Assert.True(missing.Count == 0, $"infra/app/storage.bicep declares the queues [{string.Join(", ", declared)}] but the functions also use {string.Join(", ", missing)}.");
    }

    [Fact]
    public void The_cosmos_database_name_in_code_and_infra_is_the_same()
    {
        var inCode = new CosmosStoreOptions().DatabaseName;

        Assert.Equal(inCode, ResolveString(Main, Main.Var("cosmosDatabaseName"), "var cosmosDatabaseName"));
        Assert.Equal(inCode, ResolveString(Cosmos, Cosmos.ParamDefault("databaseName"), "param databaseName"));
        // main.bicep hands that one variable to both the Cosmos module and the app's settings.
        Assert.Equal("cosmosDatabaseName", (Main.ModuleParams("cosmos")["databaseName"] as BicepExpression)?.Text);
        Assert.Equal("cosmosDatabaseName", (Main.ModuleParams("api")["cosmosDatabaseName"] as BicepExpression)?.Text);
        Assert.Equal("cosmosDatabaseName", (AppSettings[AppSettingNames.AsAppSetting(AppSettingNames.Setting<CosmosStoreOptions>(CosmosStoreOptions.SectionName, nameof(CosmosStoreOptions.DatabaseName)))] as BicepExpression)?.Text);
    }

    /// <summary>Every public static <see cref="ContainerDefinition"/> field of the app: the containers the code uses.</summary>
    public static TheoryData<string> CodeContainers()
    {
        var data = new TheoryData<string>();
        foreach (var container in ContainersInCode())
        {
            data.Add(container.Name);
        }

        return data;
    }

    private static List<ContainerDefinition> ContainersInCode() =>
        typeof(ItsmApp).Assembly.GetTypes()
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(f => f.FieldType == typeof(ContainerDefinition))
            .Select(f => (ContainerDefinition)f.GetValue(null)!)
            .DistinctBy(c => c.Name)
            .ToList();

    private static BicepObject InfraContainer(string name) =>
        ContainersInInfra().FirstOrDefault(c => (c["name"] as BicepLiteral)?.Value as string == name)
        ?? throw new XunitException($"infra/main.bicep `cosmosContainers` has no container '{name}'.");

    private static List<BicepObject> ContainersInInfra()
    {
        var value = Main.ParamDefault("cosmosContainers") as BicepArray
            ?? throw new InvalidOperationException("infra/main.bicep: `param cosmosContainers` has no array literal default.");
        return value.Items.Select(i => i as BicepObject ?? throw new InvalidOperationException($"{i.Where}: a container must be an object literal.")).ToList();
    }

    [Fact]
    public void Infra_declares_exactly_the_containers_the_code_uses()
    {
        var inCode = ContainersInCode().Select(c => c.Name).Order(StringComparer.Ordinal).ToList();
        var inInfra = ContainersInInfra().Select(c => ResolveString(Main, c["name"], "container name")).Order(StringComparer.Ordinal).ToList();

        Assert.Contains("tickets", inCode);
        Assert.Contains("counters", inCode);
        Assert.True(
            inCode.SequenceEqual(inInfra),
            $"infra/main.bicep `cosmosContainers` declares [{string.Join(", ", inInfra)}], the code uses [{string.Join(", ", inCode)}]. Missing in infra: [{string.Join(", ", inCode.Except(inInfra))}]; not used by the code: [{string.Join(", ", inInfra.Except(inCode))}].");
    }

    [Theory]
    [MemberData(nameof(CodeContainers))]
    public void A_container_has_the_same_partition_key_paths_in_code_and_infra(string name)
    {
        var container = ContainersInCode().Single(c => c.Name == name);
        var declared = InfraContainer(name);
        var paths = (declared["partitionKeyPaths"] ?? throw new InvalidOperationException($"{declared.Where}: container '{name}' has no partitionKeyPaths.")).ToJson()!.AsArray().Select(p => p!.GetValue<string>()).ToList();

        Assert.True(
            container.PartitionKeyPaths.SequenceEqual(paths),
            $"Container '{name}': the code partitions by [{string.Join(", ", container.PartitionKeyPaths)}], {declared.Where} by [{string.Join(", ", paths)}]. A changed key needs a new container.");
    }

    [Theory]
    [MemberData(nameof(CodeContainers))]
    public void A_container_has_the_indexing_policy_the_cosmos_adapter_builds(string name)
    {
        var container = ContainersInCode().Single(c => c.Name == name);
        var declared = InfraContainer(name);
        var policy = declared["indexingPolicy"]
            ?? throw new XunitException($"{declared.Where}: container '{name}' has no indexingPolicy; the code builds one (CosmosDocumentStore.IndexingPolicyFor).");

        var expected = ArmJson(CosmosDocumentStore.IndexingPolicyFor(container));
        var actual = policy.ToJson();

        Assert.True(
            JsonNode.DeepEquals(expected, actual),
            $"Container '{name}': {policy.Where} has the indexing policy\n{actual?.ToJsonString(Indented)}\nbut CosmosDocumentStore.IndexingPolicyFor builds\n{expected.ToJsonString(Indented)}");
    }

    [Fact]
    public void The_cosmos_module_turns_two_paths_into_a_hierarchical_key_and_passes_the_indexing_policy()
    {
        // The map in infra/app/cosmos.bicep from our container type to the AVM module's (0.20.1 sql-database containerType).
        var mapped = Cosmos.ObjectAfter("c", "=", ">");

        Assert.Equal("c.name", Text(mapped["name"]));
        Assert.Equal("c.partitionKeyPaths", Text(mapped["paths"]));
        Assert.Equal("length(c.partitionKeyPaths)>1?'MultiHash':'Hash'", Text(mapped["kind"]));
        Assert.Equal(2L, (mapped["version"] as BicepLiteral)?.Value);
        Assert.Equal("c.?indexingPolicy", Text(mapped["indexingPolicy"]));

        var database = Assert.Single(((Cosmos.ModuleParams("account")["sqlDatabases"] as BicepArray)?.Items ?? []).OfType<BicepObject>());
        Assert.Equal("databaseName", Text(database["name"]));
        Assert.Equal("containerDefinitions", Text(database["containers"]));
        Assert.Equal("cosmosContainers", Text(Main.ModuleParams("cosmos")["containers"]));
    }

    [Fact]
    public void The_durable_task_hub_name_of_host_json_is_valid_and_no_infra_setting_contradicts_it()
    {
        var hostJson = JsonNode.Parse(Repository.ReadText("host.json"))!;
        var hubName = hostJson["extensions"]?["durableTask"]?["hubName"]?.GetValue<string>()
            ?? throw new XunitException("host.json has no extensions.durableTask.hubName.");

        // Task hub names: letters and digits, starting with a letter, 3 to 45 characters (Durable Functions task hub docs).
        Assert.Matches(TaskHubName(), hubName);
        foreach (var (key, value) in AppSettings.Properties.Where(p => p.Key.Contains("durableTask", StringComparison.OrdinalIgnoreCase) && p.Key.Contains("hubName", StringComparison.OrdinalIgnoreCase)))
        {
            Assert.True(
                value is BicepLiteral { Value: string s } && s == hubName,
                $"infra/app/api.bicep sets {key} to {value} ({value.Where}) but host.json's hub is '{hubName}'.");
        }
    }

    [Fact]
    public void Main_bicep_validates_its_parameters_and_main_parameters_json_maps_every_required_one()
    {
        var environmentName = Main.Param("environmentName");
        Assert.True(environmentName.NumberOf("minLength") >= 1, "environmentName needs @minLength(1) or more.");
        // The resource group is rg-<environmentName>; resource group names have at most 90 characters.
        Assert.True(environmentName.NumberOf("maxLength") is { } max && max <= 90 - "rg-".Length, "environmentName needs a @maxLength that keeps rg-<name> within 90 characters.");

        var regions = (Main.Param("location").Decorator("allowed")?.Argument as BicepArray)?.Items.Select(i => (i as BicepLiteral)?.Value as string ?? $"{i}").ToList()
            ?? throw new XunitException("location needs an @allowed list of Flex Consumption regions.");
        Assert.NotEmpty(regions);
        Assert.All(regions, r => Assert.Matches(RegionName(), r));
        Assert.Equal(regions.Count, regions.Distinct().Count());

        Assert.Equal(36L, Main.Param("apiClientId").NumberOf("minLength"));
        Assert.Equal(36L, Main.Param("apiClientId").NumberOf("maxLength"));
        Assert.Equal(Api.Param("maximumInstanceCount").NumberOf("minValue"), Main.Param("maximumInstanceCount").NumberOf("minValue"));
        Assert.Equal(Api.Param("maximumInstanceCount").NumberOf("maxValue"), Main.Param("maximumInstanceCount").NumberOf("maxValue"));

        var parametersJson = JsonNode.Parse(Repository.ReadText("infra", "main.parameters.json"))!["parameters"]!.AsObject();
        var declared = Main.Params().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var unknown = parametersJson.Select(p => p.Key).Where(k => !declared.Contains(k)).ToList();
        var unmapped = Main.Params().Where(p => !p.HasDefault && !parametersJson.ContainsKey(p.Name)).Select(p => p.Name).ToList();
        Assert.True(unknown.Count == 0, $"infra/main.parameters.json sets parameters main.bicep does not declare: {string.Join(", ", unknown)}");
        Assert.True(unmapped.Count == 0, $"main.bicep parameters without a default that infra/main.parameters.json does not map: {string.Join(", ", unmapped)}");
    }

    [Fact]
    public void The_bicep_reader_understands_the_shapes_these_tests_rely_on()
    {
        var file = BicepFile.Parse("""
            // comment with 'quotes' and listKeys(
            @minLength(1)
            @allowed([
              'a'
              'b'
            ])
            param p string = 'x${'y'}'
            param q object = { a: 1, b: [true, null], 'c-d': 'it\'s' }
            var v = {
              k: cond ? 'a' : 'b'
              n: {
                m: x.y
              }
            }
            """);

        Assert.Equal(1L, file.Param("p").NumberOf("minLength"));
        Assert.Equal(2, (file.Param("p").Decorator("allowed")!.Argument as BicepArray)!.Items.Count);
        Assert.Equal("'x${'y'}'", (file.ParamDefault("p") as BicepExpression)!.Text);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"a":1,"b":[true,null],"c-d":"it's"}"""), file.ParamDefault("q")!.ToJson()));
        var v = (BicepObject)file.Var("v");
        Assert.Equal("cond?'a':'b'", ((BicepExpression)v["k"]!).Text);
        Assert.Equal("x.y", ((BicepExpression)((BicepObject)v["n"]!)["m"]!).Text);
        Assert.DoesNotContain("listKeys", file.Code, StringComparison.Ordinal);
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static string? Text(BicepValue? value) => value switch
    {
        BicepExpression e => e.Text,
        BicepLiteral l => l.ToString(),
        null => null,
        _ => value.GetType().Name,
    };

    /// <summary>A string literal, or a reference to a parameter of the same file whose default is one.</summary>
    private static string ResolveString(BicepFile file, BicepValue? value, string what) => value switch
    {
        BicepLiteral { Value: string s } => s,
        BicepExpression e when Identifier().IsMatch(e.Text) && file.ParamDefault(e.Text) is BicepLiteral { Value: string s } => s,
        _ => throw new InvalidOperationException($"{value?.Where ?? file.RelativePath}: the {what} is '{value}', not a string literal or a parameter with a literal default."),
    };

    /// <summary>The SDK's indexing policy in the ARM/Bicep property shape (Microsoft.DocumentDB containers, indexingPolicy).</summary>
    private static JsonObject ArmJson(IndexingPolicy policy)
    {
        Assert.Empty(policy.SpatialIndexes);
        return new JsonObject
        {
            ["automatic"] = policy.Automatic,
            ["indexingMode"] = policy.IndexingMode switch
            {
                IndexingMode.Consistent => "consistent",
                IndexingMode.Lazy => "lazy",
                _ => "none",
            },
            ["includedPaths"] = new JsonArray(policy.IncludedPaths.Select(p => (JsonNode)new JsonObject { ["path"] = p.Path }).ToArray()),
            ["excludedPaths"] = new JsonArray(policy.ExcludedPaths.Select(p => (JsonNode)new JsonObject { ["path"] = p.Path }).ToArray()),
            ["compositeIndexes"] = new JsonArray(policy.CompositeIndexes
                .Select(index => (JsonNode)new JsonArray(index
                    .Select(c => (JsonNode)new JsonObject { ["path"] = c.Path, ["order"] = c.Order == CompositePathSortOrder.Ascending ? "ascending" : "descending" })
                    .ToArray()))
                .ToArray()),
        };
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex Identifier();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,44}$")]
    private static partial Regex TaskHubName();

    [GeneratedRegex("^[a-z0-9]+$")]
    private static partial Regex RegionName();
}
