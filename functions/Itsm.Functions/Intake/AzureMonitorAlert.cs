using System.Text.Json;

namespace Itsm.Functions.Intake;

/// <summary>Azure Monitor's common alert schema as an intake message: one incident per alert rule and target resource.</summary>
public static class AzureMonitorAlert
{
    public const string SchemaId = "azureMonitorCommonAlertSchema";

    public static (IntakeMessage? Message, Dictionary<string, string[]>? Error) Parse(string? body, string source, DateTimeOffset now)
    {
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(body ?? "", new JsonDocumentOptions { MaxDepth = 32 }).RootElement;
        }
        catch (JsonException)
        {
            return (null, new() { ["$"] = ["The body is not valid JSON."] });
        }

        if (root.ValueKind != JsonValueKind.Object || Text(root, "schemaId") != SchemaId)
        {
            return (null, new() { ["schemaId"] = [$"must be '{SchemaId}' (enable the common alert schema on the action group)."] });
        }

        if (!root.TryGetProperty("data", out var data) || !data.TryGetProperty("essentials", out var essentials) || essentials.ValueKind != JsonValueKind.Object)
        {
            return (null, new() { ["data.essentials"] = ["is required."] });
        }

        var errors = new Dictionary<string, string[]>();
        var alertId = Text(essentials, "alertId");
        var rule = Text(essentials, "alertRule");
        var condition = Text(essentials, "monitorCondition");
        if (string.IsNullOrEmpty(alertId))
        {
            errors["data.essentials.alertId"] = ["is required."];
        }

        if (string.IsNullOrEmpty(rule))
        {
            errors["data.essentials.alertRule"] = ["is required."];
        }

        if (condition is not ("Fired" or "Resolved"))
        {
            errors["data.essentials.monitorCondition"] = ["must be Fired or Resolved."];
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var targets = essentials.TryGetProperty("alertTargetIDs", out var ids) && ids.ValueKind == JsonValueKind.Array
            ? ids.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.String).Select(i => i.GetString()!.ToLowerInvariant()).Order(StringComparer.Ordinal).ToArray()
            : [];
        var items = essentials.TryGetProperty("configurationItems", out var ci) && ci.ValueKind == JsonValueKind.Array
            ? ci.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.String).Select(i => i.GetString()!).ToArray()
            : [];
        var severity = Text(essentials, "severity") ?? "Sev3";
        var (impact, urgency) = severity switch
        {
            "Sev0" => (1, 1),
            "Sev1" => (2, 1),
            "Sev2" => (2, 2),
            "Sev3" => (3, 2),
            _ => (3, 3),
        };
        var resolved = condition == "Resolved";
        var at = Instant(essentials, resolved ? "resolvedDateTime" : "firedDateTime") ?? now;
        var description = Text(essentials, "description");
        var subject = $"{severity} {rule}" + (items.Length > 0 ? $" on {string.Join(", ", items)}" : "");
        var text = $"{description}\n\nRule: {rule}\nSeverity: {severity}\nCondition: {condition}\nSignal: {Text(essentials, "signalType")} ({Text(essentials, "monitoringService")})\nTargets: {string.Join(", ", targets)}\nAt: {at:O}".Trim();
        return (new IntakeMessage(IntakeProcessor.MonitoringChannel, $"{alertId}|{condition}|{at:O}", "azure-monitor", subject, text, at)
        {
            Source = source,
            CorrelationKey = IntakeIds.Hash(rule!.ToLowerInvariant() + "|" + string.Join(",", targets)),
            Resolved = resolved,
            Impact = impact,
            Urgency = urgency,
        }, null);
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static DateTimeOffset? Instant(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out var instant) ? instant : null;
}
