using System.Text;
using System.Text.Json;

namespace Itsm.Functions.Hosting;

/// <summary>
/// What makes a request body unusable as text before any handler reads it: bytes that are not UTF-8, and JSON whose
/// strings cannot be decoded (an escaped UTF-16 surrogate without its pair, such as <c>"\ud800"</c>). JSON text is
/// UTF-8 (RFC 8259) and its strings are Unicode (I-JSON, RFC 7493), so such a body is refused on every route with
/// 400 problem details that name the problem.
/// </summary>
public static class JsonText
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The body as text; null with the reason when it is not UTF-8.</summary>
    public static string? DecodeUtf8(byte[] body, out string? problem)
    {
        problem = null;
        try
        {
            return StrictUtf8.GetString(body);
        }
        catch (DecoderFallbackException ex)
        {
            problem = ex.Index >= 0
                ? $"The body is not valid UTF-8 text (an invalid byte sequence at byte {ex.Index})."
                : "The body is not valid UTF-8 text.";
            return null;
        }
    }

    /// <summary>
    /// Null when <paramref name="utf8"/> is not JSON at all (the route's handler says what it expected) or is JSON
    /// whose every string and property name decodes; otherwise why it is not valid JSON text.
    /// </summary>
    public static string? StringProblem(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 64 });
        string? problem = null;
        try
        {
            while (reader.Read())
            {
                if (problem is null && reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
                {
                    try
                    {
                        reader.GetString();
                    }
                    catch (InvalidOperationException)
                    {
                        problem = $"The body is not valid JSON text: the {(reader.TokenType == JsonTokenType.PropertyName ? "property name" : "string")} at byte {reader.TokenStartIndex} holds an escaped UTF-16 surrogate without its pair (such as \\ud800); strings must be Unicode text.";
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (or too deep): left to the handler, which knows what it expects and says so, unless a string
            // before the error could not be decoded.
            return problem;
        }

        return problem;
    }
}
