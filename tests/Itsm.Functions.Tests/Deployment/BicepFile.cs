using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Deployment;

/// <summary>
/// Just enough Bicep to check <c>infra/</c> against the code on a machine without the Bicep compiler. It tokenises a
/// file (comments dropped, strings with their <c>${...}</c> interpolations kept whole), finds top-level
/// <c>param</c>, <c>var</c> and <c>module</c> statements with their decorators, and reads values: object and array
/// literals, plain strings, numbers, booleans and null become structured values; anything else (a reference, a
/// function call, an interpolated string, a ternary) is kept as an <see cref="BicepExpression"/> with its text.
/// </summary>
/// <remarks>
/// Limits, on purpose: no type checking, no evaluation (a value computed by an expression is only compared as text),
/// an expression ends at the first line break outside brackets (a ternary continued on the next line is cut),
/// only the first argument of a decorator is read, loops (<c>[for ...]</c>) and conditions (<c>if (...)</c>) in front
/// of a module body are not understood, and string escapes other than <c>\n \r \t \\ \' \$</c> are not decoded. The
/// files it reads are written so that the values the tests compare are plain literals. A file this reader cannot
/// follow fails the test with the file and line, rather than passing silently.
/// </remarks>
internal sealed class BicepFile
{
    private static readonly HashSet<string> StatementKeywords =
        ["param", "var", "resource", "module", "output", "type", "import", "func", "targetScope", "metadata", "extension"];

    private readonly List<Token> _tokens;

    private BicepFile(string relativePath, string text)
    {
        RelativePath = relativePath;
        Text = text;
        _tokens = Tokenize(text, relativePath);
    }

    /// <summary>Path below the repository root, with forward slashes, for messages.</summary>
    public string RelativePath { get; }

    /// <summary>The file as written, comments included.</summary>
    public string Text { get; }

    /// <summary>The file's tokens joined again without comments: what a text search should look at.</summary>
    public string Code => string.Join(" ", _tokens.Where(t => t.Kind != TokenKind.Newline).Select(t => t.Text));

    public static BicepFile Load(string relativePath) =>
        new(relativePath, File.ReadAllText(Repository.PathOf(relativePath.Split('/'))));

    public static BicepFile Parse(string text, string name = "inline.bicep") => new(name, text);

    /// <summary>Top-level parameters in file order, with their decorators and whether they have a default.</summary>
    public IReadOnlyList<BicepParam> Params()
    {
        var result = new List<BicepParam>();
        foreach (var statement in Statements().Where(s => s.Keyword == "param"))
        {
            var equals = FindAtDepthZeroOnStatement(statement.Index + 2, "=");
            result.Add(new BicepParam(statement.Name, statement.Decorators, equals is not null, Where(statement.Index)));
        }

        return result;
    }

    public BicepParam Param(string name) =>
        Params().FirstOrDefault(p => p.Name == name) ?? throw Fail(0, $"has no parameter '{name}'");

    /// <summary>The default value of <c>param {name} ... = value</c>; null when the parameter has none.</summary>
    public BicepValue? ParamDefault(string name)
    {
        var statement = Statement("param", name);
        var equals = FindAtDepthZeroOnStatement(statement.Index + 2, "=");
        if (equals is null)
        {
            return null;
        }

        var i = equals.Value + 1;
        return ParseValue(ref i);
    }

    /// <summary>The value of <c>var {name} = value</c>.</summary>
    public BicepValue Var(string name)
    {
        var statement = Statement("var", name);
        var i = statement.Index + 2;
        Expect(i, "=");
        i++;
        return ParseValue(ref i);
    }

    /// <summary>The <c>params</c> object of <c>module {symbolicName} '...' = { params: { ... } }</c>.</summary>
    public BicepObject ModuleParams(string symbolicName)
    {
        var statement = Statement("module", symbolicName);
        var equals = FindAtDepthZeroOnStatement(statement.Index + 2, "=") ?? throw Fail(statement.Index, $"module {symbolicName} has no '='");
        var i = equals + 1;
        if (!_tokens[i].Is("{"))
        {
            throw Fail(i, $"module {symbolicName}: only a plain object body is understood (no loop or condition), found '{_tokens[i].Text}'");
        }

        var body = ParseObject(ref i);
        return body["params"] as BicepObject ?? throw Fail(statement.Index, $"module {symbolicName} has no params object");
    }

    /// <summary>The first object literal that follows the given token sequence, e.g. <c>ObjectAfter("=>")</c> for a lambda body.</summary>
    public BicepObject ObjectAfter(params string[] sequence)
    {
        for (var start = 0; start + sequence.Length <= _tokens.Count; start++)
        {
            if (sequence.Select((text, k) => _tokens[start + k].Text == text).All(match => match))
            {
                var i = start + sequence.Length;
                while (i < _tokens.Count && _tokens[i].Kind == TokenKind.Newline)
                {
                    i++;
                }

                if (i < _tokens.Count && _tokens[i].Is("{"))
                {
                    return ParseObject(ref i);
                }
            }
        }

        throw Fail(0, $"has no object after '{string.Join(" ", sequence)}'");
    }

    // ---------------------------------------------------------------------------------------------
    // Statements
    // ---------------------------------------------------------------------------------------------

    private sealed record StatementInfo(string Keyword, string Name, int Index, IReadOnlyList<BicepDecorator> Decorators);

    private StatementInfo Statement(string keyword, string name) =>
        Statements().FirstOrDefault(s => s.Keyword == keyword && s.Name == name) ?? throw Fail(0, $"has no '{keyword} {name}'");

    private IEnumerable<StatementInfo> Statements()
    {
        var depth = 0;
        var pending = new List<BicepDecorator>();
        for (var i = 0; i < _tokens.Count; i++)
        {
            var token = _tokens[i];
            if (depth == 0 && token.Is("@"))
            {
                pending.Add(ParseDecorator(ref i));
                continue;
            }

            if (token.Text is "{" or "[" or "(" && token.Kind == TokenKind.Symbol)
            {
                depth++;
            }
            else if (token.Text is "}" or "]" or ")" && token.Kind == TokenKind.Symbol)
            {
                depth--;
            }
            else if (depth == 0 && token.Kind == TokenKind.Identifier && StatementKeywords.Contains(token.Text) && (i == 0 || _tokens[i - 1].Kind == TokenKind.Newline))
            {
                var name = i + 1 < _tokens.Count && _tokens[i + 1].Kind == TokenKind.Identifier ? _tokens[i + 1].Text : string.Empty;
                yield return new StatementInfo(token.Text, name, i, pending);
                pending = [];
            }
        }
    }

    /// <summary><paramref name="i"/> is at '@'; leaves it at the decorator's last token.</summary>
    private BicepDecorator ParseDecorator(ref int i)
    {
        var at = i;
        var name = new StringBuilder();
        i++;
        while (i < _tokens.Count && (_tokens[i].Kind == TokenKind.Identifier || _tokens[i].Is(".")))
        {
            name.Append(_tokens[i].Text);
            i++;
        }

        var shortName = name.ToString().Split('.')[^1];
        if (i >= _tokens.Count || !_tokens[i].Is("("))
        {
            i--;
            return new BicepDecorator(shortName, null);
        }

        var close = MatchingClose(i);
        var argumentStart = i + 1;
        while (_tokens[argumentStart].Kind == TokenKind.Newline)
        {
            argumentStart++;
        }

        BicepValue? argument = null;
        if (argumentStart < close)
        {
            argument = ParseValue(ref argumentStart);
        }

        i = close;
        return new BicepDecorator(shortName, argument) { Where = Where(at) };
    }

    /// <summary>From <paramref name="start"/>, the index of <paramref name="text"/> at bracket depth 0 before the statement's line ends.</summary>
    private int? FindAtDepthZeroOnStatement(int start, string text)
    {
        var depth = 0;
        for (var i = start; i < _tokens.Count; i++)
        {
            var token = _tokens[i];
            if (depth == 0 && token.Kind == TokenKind.Newline)
            {
                return null;
            }

            if (depth == 0 && token.Is(text))
            {
                return i;
            }

            if (token.Kind == TokenKind.Symbol && token.Text is "{" or "[" or "(")
            {
                depth++;
            }
            else if (token.Kind == TokenKind.Symbol && token.Text is "}" or "]" or ")")
            {
                depth--;
            }
        }

        return null;
    }

    private int MatchingClose(int open)
    {
        var depth = 0;
        for (var i = open; i < _tokens.Count; i++)
        {
            if (_tokens[i].Kind != TokenKind.Symbol)
            {
                continue;
            }

            if (_tokens[i].Text is "{" or "[" or "(")
            {
                depth++;
            }
            else if (_tokens[i].Text is "}" or "]" or ")" && --depth == 0)
            {
                return i;
            }
        }

        throw Fail(open, "has an unclosed bracket");
    }

    // ---------------------------------------------------------------------------------------------
    // Values
    // ---------------------------------------------------------------------------------------------

    private BicepValue ParseValue(ref int i)
    {
        if (i >= _tokens.Count)
        {
            throw Fail(_tokens.Count - 1, "ends where a value was expected");
        }

        var token = _tokens[i];
        if (token.Is("{"))
        {
            return ParseObject(ref i);
        }

        if (token.Is("["))
        {
            return ParseArray(ref i);
        }

        if (IsTerminator(i + 1))
        {
            object? literal = token.Kind switch
            {
                TokenKind.String when !token.Interpolated => token.StringValue,
                TokenKind.Number => long.Parse(token.Text, CultureInfo.InvariantCulture),
                TokenKind.Identifier when token.Text == "true" => true,
                TokenKind.Identifier when token.Text == "false" => false,
                TokenKind.Identifier when token.Text == "null" => NullLiteral.Value,
                _ => null,
            };
            if (literal is not null)
            {
                i++;
                return new BicepLiteral(literal is NullLiteral ? null : literal) { Where = Where(i - 1) };
            }
        }

        return ParseExpression(ref i);
    }

    private sealed class NullLiteral
    {
        public static readonly NullLiteral Value = new();
    }

    private bool IsTerminator(int i) =>
        i >= _tokens.Count || _tokens[i].Kind == TokenKind.Newline || (_tokens[i].Kind == TokenKind.Symbol && _tokens[i].Text is "," or "}" or "]" or ")");

    private BicepExpression ParseExpression(ref int i)
    {
        var start = i;
        var text = new StringBuilder();
        var depth = 0;
        while (i < _tokens.Count)
        {
            var token = _tokens[i];
            if (depth == 0 && IsTerminator(i))
            {
                break;
            }

            if (token.Kind == TokenKind.Symbol && token.Text is "{" or "[" or "(")
            {
                depth++;
            }
            else if (token.Kind == TokenKind.Symbol && token.Text is "}" or "]" or ")")
            {
                depth--;
            }

            if (token.Kind != TokenKind.Newline)
            {
                if (text.Length > 0 && IsWordChar(text[^1]) && IsWordChar(token.Text[0]))
                {
                    text.Append(' ');
                }

                text.Append(token.Text);
            }

            i++;
        }

        if (i == start)
        {
            throw Fail(i, $"has no value where one was expected (found '{_tokens[i].Text.Replace("\n", "line break", StringComparison.Ordinal)}')");
        }

        return new BicepExpression(text.ToString()) { Where = Where(start) };
    }

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '\'';

    private BicepObject ParseObject(ref int i)
    {
        var start = i;
        Expect(i, "{");
        i++;
        var properties = new List<KeyValuePair<string, BicepValue>>();
        while (true)
        {
            SkipSeparators(ref i);
            if (i >= _tokens.Count)
            {
                throw Fail(start, "has an unclosed object");
            }

            if (_tokens[i].Is("}"))
            {
                i++;
                return new BicepObject(properties) { Where = Where(start) };
            }

            var key = _tokens[i] switch
            {
                { Kind: TokenKind.Identifier } t => t.Text,
                { Kind: TokenKind.String, Interpolated: false } t => t.StringValue!,
                var t => throw Fail(i, $"has '{t.Text}' where an object key was expected"),
            };
            i++;
            Expect(i, ":");
            i++;
            properties.Add(new(key, ParseValue(ref i)));
        }
    }

    private BicepArray ParseArray(ref int i)
    {
        var start = i;
        Expect(i, "[");
        i++;
        var items = new List<BicepValue>();
        while (true)
        {
            SkipSeparators(ref i);
            if (i >= _tokens.Count)
            {
                throw Fail(start, "has an unclosed array");
            }

            if (_tokens[i].Is("]"))
            {
                i++;
                return new BicepArray(items) { Where = Where(start) };
            }

            if (_tokens[i].Is("for"))
            {
                throw Fail(i, "has an array loop ([for ...]), which this reader does not evaluate");
            }

            items.Add(ParseValue(ref i));
        }
    }

    private void SkipSeparators(ref int i)
    {
        while (i < _tokens.Count && (_tokens[i].Kind == TokenKind.Newline || _tokens[i].Is(",")))
        {
            i++;
        }
    }

    private void Expect(int i, string text)
    {
        if (i >= _tokens.Count || !_tokens[i].Is(text))
        {
            throw Fail(Math.Min(i, _tokens.Count - 1), $"has '{(i < _tokens.Count ? _tokens[i].Text : "end of file")}' where '{text}' was expected");
        }
    }

    private string Where(int tokenIndex) => $"{RelativePath}:{(_tokens.Count == 0 ? 1 : _tokens[Math.Clamp(tokenIndex, 0, _tokens.Count - 1)].Line)}";

    private FormatException Fail(int tokenIndex, string message) => new($"{Where(tokenIndex)} {message}.");

    // ---------------------------------------------------------------------------------------------
    // Tokens
    // ---------------------------------------------------------------------------------------------

    private enum TokenKind
    {
        Newline,
        Identifier,
        Number,
        String,
        Symbol,
    }

    private readonly record struct Token(TokenKind Kind, string Text, string? StringValue, bool Interpolated, int Line)
    {
        public bool Is(string text) => Kind is TokenKind.Symbol or TokenKind.Identifier && Text == text;
    }

    private static List<Token> Tokenize(string text, string file)
    {
        var tokens = new List<Token>();
        var line = 1;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '\n')
            {
                tokens.Add(new Token(TokenKind.Newline, "\n", null, false, line));
                line++;
                i++;
            }
            else if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '/' && i + 1 < text.Length && text[i + 1] == '/')
            {
                while (i < text.Length && text[i] != '\n')
                {
                    i++;
                }
            }
            else if (c == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    throw new FormatException($"{file}:{line} has an unclosed /* comment.");
                }

                line += text.AsSpan(i, end - i).Count('\n');
                i = end + 2;
            }
            else if (string.CompareOrdinal(text, i, "'''", 0, 3) == 0)
            {
                var end = text.IndexOf("'''", i + 3, StringComparison.Ordinal);
                if (end < 0)
                {
                    throw new FormatException($"{file}:{line} has an unclosed ''' string.");
                }

                tokens.Add(new Token(TokenKind.String, text[i..(end + 3)], text[(i + 3)..end], false, line));
                line += text.AsSpan(i, end - i).Count('\n');
                i = end + 3;
            }
            else if (c == '\'')
            {
                var start = i;
                var startLine = line;
                var (value, interpolated) = ReadString(text, ref i, ref line, file);
                tokens.Add(new Token(TokenKind.String, text[start..i], value, interpolated, startLine));
            }
            else if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Identifier, text[start..i], null, false, line));
            }
            else if (char.IsDigit(c))
            {
                var start = i;
                while (i < text.Length && char.IsDigit(text[i]))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Number, text[start..i], null, false, line));
            }
            else
            {
                tokens.Add(new Token(TokenKind.Symbol, c.ToString(), null, false, line));
                i++;
            }
        }

        return tokens;
    }

    /// <summary><paramref name="i"/> is at the opening quote; leaves it after the closing one.</summary>
    private static (string Value, bool Interpolated) ReadString(string text, ref int i, ref int line, string file)
    {
        var value = new StringBuilder();
        var interpolated = false;
        var startLine = line;
        i++;
        while (true)
        {
            if (i >= text.Length)
            {
                throw new FormatException($"{file}:{startLine} has an unclosed string.");
            }

            var c = text[i];
            if (c == '\'')
            {
                i++;
                return (value.ToString(), interpolated);
            }

            if (c == '\\' && i + 1 < text.Length)
            {
                value.Append(text[i + 1] switch
                {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    var other => other,
                });
                i += 2;
                continue;
            }

            if (c == '$' && i + 1 < text.Length && text[i + 1] == '{')
            {
                interpolated = true;
                var start = i;
                i += 2;
                SkipInterpolation(text, ref i, ref line, file);
                value.Append(text, start, i - start);
                continue;
            }

            if (c == '\n')
            {
                line++;
            }

            value.Append(c);
            i++;
        }
    }

    private static void SkipInterpolation(string text, ref int i, ref int line, string file)
    {
        var depth = 1;
        while (depth > 0)
        {
            if (i >= text.Length)
            {
                throw new FormatException($"{file}:{line} has an unclosed ${{...}} in a string.");
            }

            var c = text[i];
            if (c == '\'')
            {
                ReadString(text, ref i, ref line, file);
                continue;
            }

            if (c == '{')
            {
                depth++;
            }
            else if (c == '}')
            {
                depth--;
            }
            else if (c == '\n')
            {
                line++;
            }

            i++;
        }
    }
}

/// <summary>A value read from a Bicep file; <see cref="Where"/> is <c>path:line</c> for messages.</summary>
internal abstract class BicepValue
{
    public string Where { get; init; } = "?";

    /// <summary>The value as JSON; fails for anything that contains an expression.</summary>
    public abstract JsonNode? ToJson();
}

internal sealed class BicepObject(IReadOnlyList<KeyValuePair<string, BicepValue>> properties) : BicepValue
{
    public IReadOnlyList<KeyValuePair<string, BicepValue>> Properties { get; } = properties;

    public IEnumerable<string> Keys => Properties.Select(p => p.Key);

    public BicepValue? this[string key] => Properties.FirstOrDefault(p => p.Key == key).Value;

    public override JsonNode ToJson()
    {
        var json = new JsonObject();
        foreach (var (key, value) in Properties)
        {
            json[key] = value.ToJson();
        }

        return json;
    }
}

internal sealed class BicepArray(IReadOnlyList<BicepValue> items) : BicepValue
{
    public IReadOnlyList<BicepValue> Items { get; } = items;

    public override JsonNode ToJson() => new JsonArray(Items.Select(i => i.ToJson()).ToArray());
}

/// <summary>A plain string, a whole number, true, false or null.</summary>
internal sealed class BicepLiteral(object? value) : BicepValue
{
    public object? Value { get; } = value;

    public override JsonNode? ToJson() => Value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        long l => JsonValue.Create(l),
        bool b => JsonValue.Create(b),
        _ => throw new InvalidOperationException($"{Where}: unexpected literal {Value}."),
    };

    public override string ToString() => Value switch
    {
        string s => $"'{s}'",
        null => "null",
        bool b => b ? "true" : "false",
        _ => Convert.ToString(Value, CultureInfo.InvariantCulture) ?? string.Empty,
    };
}

/// <summary>Anything that is not a literal, as its tokens joined (spaces only between words): <c>length(c.paths)>1?'a':'b'</c>.</summary>
internal sealed class BicepExpression(string text) : BicepValue
{
    public string Text { get; } = text;

    public override JsonNode ToJson() => throw new InvalidOperationException($"{Where}: '{Text}' is an expression, not a literal; this check needs a literal.");

    public override string ToString() => Text;
}

internal sealed record BicepDecorator(string Name, BicepValue? Argument)
{
    public string Where { get; init; } = "?";
}

internal sealed record BicepParam(string Name, IReadOnlyList<BicepDecorator> Decorators, bool HasDefault, string Where)
{
    public BicepDecorator? Decorator(string name) => Decorators.FirstOrDefault(d => d.Name == name);

    /// <summary>The whole-number argument of a decorator such as <c>@minLength(1)</c>, or null.</summary>
    public long? NumberOf(string decorator) => (Decorator(decorator)?.Argument as BicepLiteral)?.Value as long?;
}
