using System.Text.Json;
using System.Text.Json.Nodes;

namespace Itsm.Functions.Hosting;

/// <summary>Produces the <c>function.json</c> the Functions host reads for a declared function.</summary>
public static class FunctionJson
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static JsonObject Create(FunctionDefinition function)
    {
        var bindings = new JsonArray();
        foreach (var binding in function.AllBindings)
        {
            bindings.Add(CreateBinding(binding));
        }

        return new JsonObject { ["bindings"] = bindings };
    }

    public static string Serialize(FunctionDefinition function) =>
        Create(function).ToJsonString(Indented).ReplaceLineEndings("\n") + "\n";

    /// <summary>Writes <c>{output}/{FunctionName}/function.json</c> for every function and removes stale function folders.</summary>
    public static IReadOnlyList<string> WriteAll(FunctionCatalog catalog, string outputDirectory)
    {
        Directory.CreateDirectory(outputDirectory);
        var written = new List<string>();
        var declared = new HashSet<string>(catalog.Functions.Select(f => f.Name), StringComparer.OrdinalIgnoreCase);
        foreach (var folder in Directory.EnumerateDirectories(outputDirectory))
        {
            var name = Path.GetFileName(folder);
            if (!declared.Contains(name) && File.Exists(Path.Combine(folder, "function.json")))
            {
                Directory.Delete(folder, recursive: true);
            }
        }

        foreach (var function in catalog.Functions)
        {
            var folder = Path.Combine(outputDirectory, function.Name);
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, "function.json");
            File.WriteAllText(path, Serialize(function));
            written.Add(path);
        }

        return written;
    }

    private static JsonObject CreateBinding(FunctionBinding binding)
    {
        var json = new JsonObject
        {
            ["name"] = binding.Name,
            ["type"] = binding.Type,
            ["direction"] = binding.Direction == BindingDirection.In ? "in" : "out",
        };

        switch (binding)
        {
            case HttpTrigger http:
                json["authLevel"] = http.AuthLevel.ToString().ToLowerInvariant();
                json["methods"] = new JsonArray(http.Methods.Select(m => (JsonNode?)JsonValue.Create(m.ToLowerInvariant())).ToArray());
                json["route"] = http.Route;
                break;
            case ServiceBusQueueTrigger queue:
                json["queueName"] = queue.QueueName;
                json["connection"] = queue.Connection;
                break;
            case ServiceBusOutputBinding queueOut:
                json["queueName"] = queueOut.QueueName;
                json["connection"] = queueOut.Connection;
                break;
            case TimerTrigger timer:
                json["schedule"] = timer.Schedule;
                if (timer.RunOnStartup)
                {
                    json["runOnStartup"] = true;
                }

                if (!timer.UseMonitor)
                {
                    json["useMonitor"] = false;
                }

                break;
        }

        return json;
    }
}
