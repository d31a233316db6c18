using System.Text.Json;
using Microsoft.Azure.Cosmos;

namespace Itsm.Functions.Storage.Cosmos;

/// <summary>Makes the Cosmos SDK read and write documents (and query parameters) with System.Text.Json and the app's options.</summary>
public sealed class SystemTextJsonCosmosSerializer(JsonSerializerOptions options) : CosmosSerializer
{
    public override T FromStream<T>(Stream stream)
    {
        if (typeof(Stream).IsAssignableFrom(typeof(T)))
        {
            return (T)(object)stream;
        }

        using (stream)
        {
            if (stream.CanSeek && stream.Length == 0)
            {
                return default!;
            }

            return JsonSerializer.Deserialize<T>(stream, options)!;
        }
    }

    public override Stream ToStream<T>(T input)
    {
        var stream = new MemoryStream();
        JsonSerializer.Serialize(stream, input, input?.GetType() ?? typeof(T), options);
        stream.Position = 0;
        return stream;
    }
}
