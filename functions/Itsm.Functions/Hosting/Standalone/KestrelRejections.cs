using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Itsm.Functions.Hosting.Standalone;

/// <summary>
/// Kestrel refuses some requests itself, before any middleware runs: a request target it cannot decode (a
/// <c>%00</c> in the path), a malformed request line or header, headers that are too large, a request that is too
/// slow. It answers those with an empty body and closes the connection, and offers no hook to say more. This
/// connection filter recognises exactly that answer (a 4xx or 5xx head with <c>Content-Length: 0</c>,
/// <c>Connection: close</c>, no <c>Content-Type</c> and nothing after it; the app's own error answers always carry
/// problem details) and gives it a problem-details body, so every 4xx of the standalone host is problem details.
/// Under the Functions host, the host's own server answers such requests.
/// </summary>
public static class KestrelRejections
{
    /// <summary>Adds the filter to every endpoint Kestrel listens on.</summary>
    public static void UseProblemDetailsForRejections(this KestrelServerOptions kestrel) =>
        kestrel.ConfigureEndpointDefaults(listen => listen.Use(next => async connection =>
        {
            var transport = connection.Transport;
            connection.Transport = new RewritingPipe(transport);
            try
            {
                await next(connection);
            }
            finally
            {
                connection.Transport = transport;
            }
        }));

    /// <summary>The problem-details answer for a rejection head, or null when <paramref name="output"/> is not one.</summary>
    public static byte[]? Rewrite(ReadOnlySpan<byte> output)
    {
        if (output.Length is < 20 or > 2048 || !output.EndsWith("\r\n\r\n"u8) || output.IndexOf("\r\n\r\n"u8) != output.Length - 4
            || !(output.StartsWith("HTTP/1.1 "u8) || output.StartsWith("HTTP/1.0 "u8)) || output[9] is not ((byte)'4' or (byte)'5'))
        {
            return null;
        }

        var head = Encoding.ASCII.GetString(output[..^4]);
        var lines = head.Split("\r\n");
        if (!lines.Contains("Content-Length: 0", StringComparer.OrdinalIgnoreCase)
            || !lines.Contains("Connection: close", StringComparer.OrdinalIgnoreCase)
            || lines.Any(l => l.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase))
            || !int.TryParse(lines[0].AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            return null;
        }

        var (title, detail) = status switch
        {
            400 => ("Bad request.", "The server could not read the request line or its headers (for example a path holding %00 or another control character, or a malformed header). Nothing was done."),
            408 => ("Request timeout.", "The request did not arrive in time. Nothing was done."),
            414 => ("The request target is too long.", "Shorten the path and query. Nothing was done."),
            431 => ("The request headers are too large.", "Send fewer or smaller headers. Nothing was done."),
            _ => ("The request was refused.", "The server could not process the request. Nothing was done."),
        };
        var body = JsonSerializer.SerializeToUtf8Bytes(new ProblemDetails("about:blank", title, status, detail, null), HttpResults.Json);
        var answer = new StringBuilder();
        foreach (var line in lines.Where(l => !l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)))
        {
            answer.Append(line).Append("\r\n");
        }

        answer.Append("Content-Type: application/problem+json; charset=utf-8\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n\r\n");
        return [.. Encoding.ASCII.GetBytes(answer.ToString()), .. body];
    }

    private sealed class RewritingPipe(IDuplexPipe inner) : IDuplexPipe
    {
        public PipeReader Input { get; } = inner.Input;

        public PipeWriter Output { get; } = new RewritingWriter(inner.Output);
    }

    /// <summary>Holds what Kestrel writes until it flushes, then passes it on (rewritten when it is a rejection head).</summary>
    private sealed class RewritingWriter(PipeWriter inner) : PipeWriter
    {
        private const int KeptCapacity = 64 * 1024;

        private ArrayBufferWriter<byte> _pending = new(4096);

        public override bool CanGetUnflushedBytes => true;

        public override long UnflushedBytes => _pending.WrittenCount;

        public override void Advance(int bytes) => _pending.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => _pending.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => _pending.GetSpan(sizeHint);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            PassOn();
            return inner.FlushAsync(cancellationToken);
        }

        public override void Complete(Exception? exception = null)
        {
            PassOn();
            inner.Complete(exception);
        }

        public override ValueTask CompleteAsync(Exception? exception = null)
        {
            PassOn();
            return inner.CompleteAsync(exception);
        }

        private void PassOn()
        {
            if (_pending.WrittenCount == 0)
            {
                return;
            }

            var written = _pending.WrittenSpan;
            if (Rewrite(written) is { } problem)
            {
                inner.Write(problem);
            }
            else
            {
                inner.Write(written);
            }

            if (_pending.Capacity > KeptCapacity)
            {
                _pending = new ArrayBufferWriter<byte>(4096);
            }
            else
            {
                _pending.ResetWrittenCount();
            }
        }
    }
}
