using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Azure.Functions.Worker;

namespace Itsm.Functions.Hosting;

public enum TriggerKind
{
    Http,
    Queue,
    Timer,
    Orchestration,
    Activity,
}

/// <summary>
/// One function as its attributes declare it: <c>[Function(name)]</c> on a method and the trigger attribute on one
/// of its parameters. The Worker SDK turns the same attributes into <c>functions.metadata</c> for the Functions host;
/// the standalone host reads them here, so each function is declared exactly once.
/// </summary>
public sealed record FunctionDescriptor(string Name, MethodInfo Method, TriggerKind Kind, ParameterInfo TriggerParameter)
{
    public HttpTriggerAttribute? Http => TriggerParameter.GetCustomAttribute<HttpTriggerAttribute>();

    public QueueTriggerAttribute? Queue => TriggerParameter.GetCustomAttribute<QueueTriggerAttribute>();

    public TimerTriggerAttribute? Timer => TriggerParameter.GetCustomAttribute<TimerTriggerAttribute>();

    public ApiDocAttribute? Docs => Method.GetCustomAttribute<ApiDocAttribute>();

    /// <summary>The route below the <c>api</c> prefix; the Functions host uses the function name when none is given.</summary>
    public string Route => Http?.Route ?? Name;

    /// <summary>HTTP methods in upper case; the Functions host accepts any method when none is given.</summary>
    public IReadOnlyList<string> HttpMethods => Http?.Methods is { Length: > 0 } methods ? methods.Select(m => m.ToUpperInvariant()).ToArray() : [];
}

/// <summary>Every function of the app (and of extra types, for tests), found by reflection and checked once.</summary>
public sealed partial class FunctionIndex
{
    private static readonly string[] ReservedRoutePrefixes = ["admin", "runtime"];

    private readonly Dictionary<string, FunctionDescriptor> _byName;

    private FunctionIndex(IReadOnlyList<FunctionDescriptor> functions)
    {
        Functions = functions;
        _byName = functions.ToDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyList<FunctionDescriptor> Functions { get; }

    public FunctionDescriptor? Find(string name) => _byName.GetValueOrDefault(name);

    public IEnumerable<FunctionDescriptor> OfKind(TriggerKind kind) => Functions.Where(f => f.Kind == kind);

    /// <summary>The app's functions plus those declared on <paramref name="extraTypes"/>.</summary>
    public static FunctionIndex ForApp(IEnumerable<Type>? extraTypes = null) =>
        Discover(typeof(FunctionIndex).Assembly.GetTypes().Concat(extraTypes ?? []));

    public static FunctionIndex Discover(IEnumerable<Type> types)
    {
        var functions = new List<FunctionDescriptor>();
        var errors = new List<string>();
        foreach (var method in types.Distinct().SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)))
        {
            if (method.GetCustomAttribute<FunctionAttribute>() is not { } function)
            {
                continue;
            }

            var triggers = method.GetParameters()
                .Select(p => (Parameter: p, Kind: KindOf(p)))
                .Where(t => t.Kind is not null)
                .ToArray();
            if (triggers.Length != 1)
            {
                errors.Add($"Function '{function.Name}' ({method.DeclaringType?.Name}.{method.Name}) must have exactly one trigger parameter, not {triggers.Length}.");
                continue;
            }

            functions.Add(new FunctionDescriptor(function.Name, method, triggers[0].Kind!.Value, triggers[0].Parameter));
        }

        foreach (var duplicate in functions.GroupBy(f => f.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            errors.Add($"Function '{duplicate.Key}' is declared {duplicate.Count()} times.");
        }

        foreach (var function in functions.Where(f => f.Kind == TriggerKind.Timer))
        {
            try
            {
                Standalone.TimerTriggerListener.ParseSchedule(function.Timer!.Schedule);
            }
            catch (NCrontab.CrontabException ex)
            {
                errors.Add($"Function '{function.Name}' has an invalid NCRONTAB schedule '{function.Timer!.Schedule}': {ex.Message}");
            }
        }

        // The Functions host refuses routes in its own space ("admin...", "runtime..."), so the standalone host does too.
        foreach (var function in functions.Where(f => f.Kind == TriggerKind.Http && ReservedRoutePrefixes.Any(p => f.Route.Trim('/').StartsWith(p, StringComparison.OrdinalIgnoreCase))))
        {
            errors.Add($"Function '{function.Name}': route '{function.Route}' is in the Functions host's reserved space (routes may not start with 'admin' or 'runtime').");
        }

        foreach (var function in functions.Where(f => !FunctionName().IsMatch(f.Name)))
        {
            errors.Add($"Function name '{function.Name}' must start with a letter and contain only letters, digits, '_' and '-' (at most 127).");
        }

        var routes = functions
            .Where(f => f.Kind == TriggerKind.Http)
            .SelectMany(f => (f.HttpMethods.Count > 0 ? f.HttpMethods : ["*"]).Select(m => (Method: m, Route: NormaliseRoute(f.Route), f.Name)))
            .GroupBy(r => (r.Method, r.Route));
        foreach (var clash in routes.Where(g => g.Count() > 1))
        {
            errors.Add($"{clash.Key.Method} {clash.Key.Route} is declared by {string.Join(", ", clash.Select(c => c.Name))}.");
        }

        errors.AddRange(RouteOrderErrors(functions));
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid function declarations: " + string.Join(" ", errors));
        }

        return new FunctionIndex(functions.OrderBy(f => f.Name, StringComparer.Ordinal).ToArray());
    }

    /// <summary>
    /// Two HTTP routes that can match the same request for a shared method must not depend on the host for which one
    /// answers. The Functions host tries routes in the order of the function names (case-insensitive) and takes the
    /// first that matches; the standalone host (ASP.NET Core routing) takes the more specific (a literal segment beats
    /// a parameter, a parameter beats a catch-all). So the more specific of two overlapping routes must also be the one
    /// whose function name sorts first.
    /// </summary>
    private static IEnumerable<string> RouteOrderErrors(IEnumerable<FunctionDescriptor> functions)
    {
        var http = functions.Where(f => f.Kind == TriggerKind.Http)
            .OrderBy(f => f.Name, StringComparer.OrdinalIgnoreCase)
            .Select(f => (Function: f, Template: TemplateParser.Parse(f.Route.Trim('/'))))
            .ToArray();
        for (var i = 0; i < http.Length; i++)
        {
            for (var j = i + 1; j < http.Length; j++)
            {
                var (first, later) = (http[i], http[j]);
                var sharedMethod = first.Function.HttpMethods.Count == 0 || later.Function.HttpMethods.Count == 0
                    || first.Function.HttpMethods.Intersect(later.Function.HttpMethods).Any();
                if (sharedMethod && Overlap(first.Template.Segments, later.Template.Segments)
                    && RoutePrecedence.ComputeInbound(later.Template) < RoutePrecedence.ComputeInbound(first.Template))
                {
                    yield return $"Route '{later.Function.Route}' of '{later.Function.Name}' is more specific than route '{first.Function.Route}' of '{first.Function.Name}', "
                        + "which the Functions host tries first (it goes by function name): rename one so that the more specific comes first.";
                }
            }
        }
    }

    /// <summary>Whether some request path matches both templates (literal and parameter segments, catch-all last).</summary>
    private static bool Overlap(IList<TemplateSegment> a, IList<TemplateSegment> b)
    {
        for (var i = 0; ; i++)
        {
            var (x, y) = (i < a.Count ? a[i] : null, i < b.Count ? b[i] : null);
            if (IsCatchAll(x) || IsCatchAll(y))
            {
                return true;
            }

            if (x is null || y is null)
            {
                return x is null && y is null;
            }

            if (Literal(x) is { } left && Literal(y) is { } right && !string.Equals(left, right, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        static bool IsCatchAll(TemplateSegment? segment) => segment is { Parts: [{ IsCatchAll: true }] };

        static string? Literal(TemplateSegment segment) => segment is { Parts: [{ IsLiteral: true } part] } ? part.Text : null;
    }

    private static TriggerKind? KindOf(ParameterInfo parameter) =>
        parameter.IsDefined(typeof(HttpTriggerAttribute)) ? TriggerKind.Http
        : parameter.IsDefined(typeof(QueueTriggerAttribute)) ? TriggerKind.Queue
        : parameter.IsDefined(typeof(TimerTriggerAttribute)) ? TriggerKind.Timer
        : parameter.IsDefined(typeof(OrchestrationTriggerAttribute)) ? TriggerKind.Orchestration
        : parameter.IsDefined(typeof(ActivityTriggerAttribute)) ? TriggerKind.Activity
        : null;

    private static string NormaliseRoute(string route) =>
        RouteParameter().Replace(route.Trim('/').ToLowerInvariant(), "{}");

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,126}$")]
    private static partial Regex FunctionName();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex RouteParameter();
}
