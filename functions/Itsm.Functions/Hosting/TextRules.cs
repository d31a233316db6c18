using System.Globalization;

namespace Itsm.Functions.Hosting;

/// <summary>
/// Text fields hold text: C0 control characters (U+0000-U+001F) and DEL are refused, except tab, carriage return and
/// line feed in multi-line fields (descriptions, comments, notes, plans). A NUL in a title is never intended and
/// breaks exports, mail and the systems fed from the event stream.
/// </summary>
public static class TextRules
{
    /// <summary>Null when <paramref name="text"/> is acceptable; otherwise the reason, naming the first bad character and where it is.</summary>
    public static string? ControlCharacterProblem(string? text, bool multiLine)
    {
        if (text is null)
        {
            return null;
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if ((c < ' ' || c == '\u007f') && !(multiLine && c is '\t' or '\r' or '\n'))
            {
                var code = ((int)c).ToString("X4", CultureInfo.InvariantCulture);
                return multiLine
                    ? $"must not contain control characters other than tab, carriage return and line feed (U+{code} at position {i + 1})."
                    : $"must not contain control characters (U+{code} at position {i + 1}); line breaks and tabs belong in multi-line fields only.";
            }
        }

        return null;
    }
}
