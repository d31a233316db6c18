using System.Collections.ObjectModel;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Identity;
using Microsoft.Azure.Cosmos;
using static Itsm.Functions.Storage.DocumentStoreSupport;

namespace Itsm.Functions.Storage.Cosmos;

/// <summary>
/// The document-store port on Cosmos DB for NoSQL (one container per <see cref="ContainerDefinition"/>, hierarchical
/// partition keys where the definition has two paths). Point operations use the stream APIs (no exceptions on the
/// hot path), ETags go in <c>If-Match</c>, batches are transactional batches, queries are parameterised and carry
/// the partition key (full or first-level prefix) in the request options so they stay single-partition.
/// </summary>
public sealed class CosmosDocumentStore : IDocumentStore, IDisposable
{
    private readonly CosmosClient _client;
    private readonly bool _ownsClient;

    public CosmosDocumentStore(CosmosClient client, string databaseName)
        : this(client, databaseName, ownsClient: false)
    {
    }

    private CosmosDocumentStore(CosmosClient client, string databaseName, bool ownsClient)
    {
        _client = client;
        DatabaseName = databaseName;
        _ownsClient = ownsClient;
    }

    public string DatabaseName { get; }

    /// <summary>A store with its own client built from the settings (managed identity unless a key is given).</summary>
    public static CosmosDocumentStore Create(CosmosStoreOptions options, TokenCredential? credential = null) =>
        new(CreateClient(options, credential), options.DatabaseName, ownsClient: true);

    public static CosmosClient CreateClient(CosmosStoreOptions options, TokenCredential? credential = null) =>
        CreateClient(options, credential, wrapHandler: null);

    /// <summary><paramref name="wrapHandler"/> lets tests put a handler in front of the emulator connection.</summary>
    internal static CosmosClient CreateClient(CosmosStoreOptions options, TokenCredential? credential, Func<HttpMessageHandler, HttpMessageHandler>? wrapHandler)
    {
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        var clientOptions = new CosmosClientOptions
        {
            ApplicationName = "itsm-functions",
            Serializer = new SystemTextJsonCosmosSerializer(Json),
            MaxRetryAttemptsOnRateLimitedRequests = options.MaxRetryAttemptsOnRateLimitedRequests,
            MaxRetryWaitTimeOnRateLimitedRequests = options.MaxRetryWaitTimeOnRateLimitedRequests,
        };
        if (options.AllowInsecureEmulatorCertificate)
        {
            // The emulator and test servers: gateway mode to the one endpoint, self-signed certificate accepted.
            clientOptions.ConnectionMode = ConnectionMode.Gateway;
            clientOptions.LimitToEndpoint = true;
            clientOptions.HttpClientFactory = () =>
            {
                HttpMessageHandler handler = new HttpClientHandler
                {
                    ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
                };
                return new HttpClient(wrapHandler?.Invoke(handler) ?? handler);
            };
        }

        if (!string.IsNullOrEmpty(options.Key))
        {
            return new CosmosClient(options.AccountEndpoint, options.Key, clientOptions);
        }

        credential ??= string.IsNullOrEmpty(options.ManagedIdentityClientId)
            ? new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(options.ManagedIdentityClientId));
        return new CosmosClient(options.AccountEndpoint, credential, clientOptions);
    }

    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    /// <summary>
    /// Creates the database and containers if missing. Azure deployments never call this (infra creates the
    /// containers and the app's identity has data-plane rights only); tests and emulator runs do.
    /// </summary>
    public async Task EnsureContainersAsync(IEnumerable<ContainerDefinition> containers, CancellationToken cancellationToken = default)
    {
        Database database = await _client.CreateDatabaseIfNotExistsAsync(DatabaseName, cancellationToken: cancellationToken);
        foreach (var container in containers)
        {
            ValidateContainer(container);
            var properties = new ContainerProperties(container.Name, container.PartitionKeyPaths.ToList())
            {
                IndexingPolicy = IndexingPolicyFor(container),
            };
            await database.CreateContainerIfNotExistsAsync(properties, cancellationToken: cancellationToken);
        }
    }

    /// <summary>
    /// The indexing policy a container needs: range indexes on the id, the partition key paths and the declared
    /// fields only (everything else excluded, so writes cost fewer RUs), array elements for TextArray fields, and
    /// one composite index (field, id) per sortable field, which serves ORDER BY field, id in both directions.
    /// </summary>
    public static IndexingPolicy IndexingPolicyFor(ContainerDefinition container)
    {
        ValidateContainer(container);
        var policy = new IndexingPolicy { Automatic = true, IndexingMode = IndexingMode.Consistent };
        var paths = new List<string> { "/id/?" };
        paths.AddRange(container.PartitionKeyPaths.Select(p => p + "/?"));
        foreach (var field in container.Fields)
        {
            paths.Add(PathOf(field) + (field.Type == FieldType.TextArray ? "/[]/?" : "/?"));
        }

        foreach (var path in paths.Distinct(StringComparer.Ordinal))
        {
            policy.IncludedPaths.Add(new IncludedPath { Path = path });
        }

        policy.ExcludedPaths.Add(new ExcludedPath { Path = "/*" });
        foreach (var field in container.Fields.Where(f => f.Type != FieldType.TextArray))
        {
            policy.CompositeIndexes.Add(new Collection<CompositePath>
            {
                new() { Path = PathOf(field), Order = CompositePathSortOrder.Ascending },
                new() { Path = "/id", Order = CompositePathSortOrder.Ascending },
            });
        }

        return policy;
    }

    /// <summary><c>$.assignee.id</c> as a Cosmos path: <c>/assignee/id</c>.</summary>
    private static string PathOf(IndexedField field) => field.JsonPath[1..].Replace('.', '/');

    /// <summary><c>$.assignee.id</c> as a query expression: <c>c["assignee"]["id"]</c>.</summary>
    private static string ExpressionOf(string jsonPathOrPartitionPath) =>
        "c" + string.Concat(jsonPathOrPartitionPath.TrimStart('$').Split(['.', '/'], StringSplitOptions.RemoveEmptyEntries).Select(s => $"[\"{s}\"]"));

    private Container ContainerOf(ContainerDefinition container)
    {
        ValidateContainer(container);
        return _client.GetContainer(DatabaseName, container.Name);
    }

    private static PartitionKey PartitionKeyOf(IEnumerable<string> levels)
    {
        var builder = new PartitionKeyBuilder();
        foreach (var level in levels)
        {
            builder.Add(level);
        }

        return builder.Build();
    }

    public async Task<StoredDocument<T>?> ReadAsync<T>(ContainerDefinition container, DocumentKey key, CancellationToken cancellationToken = default)
    {
        var target = ContainerOf(container);
        ValidateId(key.Id);
        using var response = await target.ReadItemStreamAsync(key.Id, PartitionKeyOf(FullLevels(container, key.PartitionKey)), cancellationToken: cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        ThrowOnFailure(response.StatusCode, key, response.ErrorMessage);
        var body = await ReadBodyAsync(response.Content, cancellationToken);
        return new StoredDocument<T>(key, Deserialize<T>(body), ETagOf(response.Headers.ETag, body));
    }

    public async Task<StoredDocument<T>> CreateAsync<T>(ContainerDefinition container, DocumentKey key, T document, CancellationToken cancellationToken = default)
    {
        var target = ContainerOf(container);
        var json = ToJsonObject(container, key, document, typeof(T));
        using var stream = ToStream(json);
        using var response = await target.CreateItemStreamAsync(stream, PartitionKeyOf(FullLevels(container, key.PartitionKey)), new ItemRequestOptions(), cancellationToken);
        ThrowOnFailure(response.StatusCode, key, response.ErrorMessage);
        return await StoredAsync<T>(key, json, response, cancellationToken);
    }

    public async Task<StoredDocument<T>> ReplaceAsync<T>(ContainerDefinition container, DocumentKey key, T document, string ifMatch, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(ifMatch);
        var target = ContainerOf(container);
        var json = ToJsonObject(container, key, document, typeof(T));
        using var stream = ToStream(json);
        using var response = await target.ReplaceItemStreamAsync(
            stream, key.Id, PartitionKeyOf(FullLevels(container, key.PartitionKey)), new ItemRequestOptions { IfMatchEtag = ifMatch }, cancellationToken);
        ThrowOnFailure(response.StatusCode, key, response.ErrorMessage);
        return await StoredAsync<T>(key, json, response, cancellationToken);
    }

    public async Task<bool> DeleteAsync(ContainerDefinition container, DocumentKey key, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        var target = ContainerOf(container);
        ValidateId(key.Id);
        using var response = await target.DeleteItemStreamAsync(
            key.Id, PartitionKeyOf(FullLevels(container, key.PartitionKey)), new ItemRequestOptions { IfMatchEtag = ifMatch }, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        ThrowOnFailure(response.StatusCode, key, response.ErrorMessage);
        return true;
    }

    public async Task<IReadOnlyList<string>> ExecuteBatchAsync(ContainerDefinition container, string partitionKey, IReadOnlyList<BatchOperation> operations, CancellationToken cancellationToken = default)
    {
        var target = ContainerOf(container);
        if (operations.Count > 100)
        {
            throw new ArgumentException("A batch holds at most 100 operations.", nameof(operations));
        }

        if (operations.Count == 0)
        {
            return [];
        }

        var batch = target.CreateTransactionalBatch(PartitionKeyOf(FullLevels(container, partitionKey)));
        foreach (var operation in operations)
        {
            var key = new DocumentKey(partitionKey, operation.Id);
            ValidateId(operation.Id);
            switch (operation)
            {
                case BatchOperation.Create c:
                    batch.CreateItemStream(ToStream(ToJsonObject(container, key, c.Document, c.Document.GetType())));
                    break;
                case BatchOperation.Replace r:
                    batch.ReplaceItemStream(r.Id, ToStream(ToJsonObject(container, key, r.Document, r.Document.GetType())), new TransactionalBatchItemRequestOptions { IfMatchEtag = r.IfMatch });
                    break;
                case BatchOperation.Upsert u:
                    batch.UpsertItemStream(ToStream(ToJsonObject(container, key, u.Document, u.Document.GetType())));
                    break;
                case BatchOperation.Delete d:
                    batch.DeleteItem(d.Id, new TransactionalBatchItemRequestOptions { IfMatchEtag = d.IfMatch });
                    break;
                default:
                    throw new ArgumentException($"Unknown batch operation {operation.GetType().Name}.", nameof(operations));
            }
        }

        using var response = await batch.ExecuteAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            // The failing operation has its own status; the others report 424 (failed dependency).
            for (var i = 0; i < response.Count; i++)
            {
                if (response[i].StatusCode != HttpStatusCode.FailedDependency && !response[i].IsSuccessStatusCode)
                {
                    ThrowOnFailure(response[i].StatusCode, new DocumentKey(partitionKey, operations[i].Id), response.ErrorMessage);
                }
            }

            ThrowOnFailure(response.StatusCode, new DocumentKey(partitionKey, operations[0].Id), response.ErrorMessage);
        }

        return Enumerable.Range(0, response.Count).Select(i => response[i].ETag).ToList();
    }

    public async Task<DocumentPage<T>> QueryAsync<T>(ContainerDefinition container, DocumentQuery query, CancellationToken cancellationToken = default)
    {
        var target = ContainerOf(container);
        ValidateQuery(container, query);
        var fingerprint = Fingerprint(container, query);
        string? cosmosToken = null;
        if (query.ContinuationToken is { } token)
        {
            cosmosToken = UnwrapToken(fingerprint, token)["c"] is JsonValue value && value.GetValueKind() == JsonValueKind.String
                ? value.GetValue<string>()
                : throw new InvalidContinuationTokenException("The continuation token is malformed.");
        }

        var (definition, partitionKey) = BuildQuery(container, query);
        var options = new QueryRequestOptions { MaxItemCount = query.PageSize, PartitionKey = partitionKey };
        using var iterator = target.GetItemQueryStreamIterator(definition, cosmosToken, options);
        var items = new List<StoredDocument<T>>();
        string? next = null;
        var resumingCallersToken = cosmosToken is not null;
        while (iterator.HasMoreResults && items.Count == 0)
        {
            ResponseMessage response;
            try
            {
                response = await iterator.ReadNextAsync(cancellationToken);
            }
            catch (CosmosException e)
            {
                ThrowOnFailure(e.StatusCode, new DocumentKey(query.PartitionKey ?? "*", "(query)"), e.Message);
                throw;
            }

            using var disposeResponse = response;
            if (response.StatusCode == HttpStatusCode.BadRequest && resumingCallersToken)
            {
                throw new InvalidContinuationTokenException("Cosmos DB refused the continuation token: " + response.ErrorMessage);
            }

            ThrowOnFailure(response.StatusCode, new DocumentKey(query.PartitionKey ?? "*", "(query)"), response.ErrorMessage);
            using var page = await JsonDocument.ParseAsync(response.Content, cancellationToken: cancellationToken);
            foreach (var document in page.RootElement.GetProperty("Documents").EnumerateArray())
            {
                var key = new DocumentKey(
                    DocumentKey.Compose(container.PartitionKeyPaths.Select(p => Navigate(document, p)).ToArray()),
                    document.GetProperty("id").GetString()!);
                items.Add(new StoredDocument<T>(key, Deserialize<T>(document.GetRawText()), document.GetProperty("_etag").GetString()!));
            }

            next = response.ContinuationToken;
            resumingCallersToken = false;
            if (next is null)
            {
                break;
            }
        }

        return new DocumentPage<T>(items, next is null ? null : WrapToken(fingerprint, new JsonObject { ["c"] = next }));
    }

    private static string Navigate(JsonElement document, string partitionKeyPath)
    {
        var current = document;
        foreach (var segment in partitionKeyPath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current = current.GetProperty(segment);
        }

        return current.GetString()!;
    }

    /// <summary>The parameterised SQL for a query and the partition key (full or prefix) it is routed to.</summary>
    internal static (QueryDefinition Definition, PartitionKey? PartitionKey) BuildQuery(ContainerDefinition container, DocumentQuery query)
    {
        var where = new List<string>();
        var parameters = new List<(string Name, object? Value)>();
        string Parameter(object? value)
        {
            var name = "@p" + parameters.Count.ToString(CultureInfo.InvariantCulture);
            parameters.Add((name, value));
            return name;
        }

        PartitionKey? partitionKey = null;
        if (query.PartitionKey is { } key)
        {
            var (levels, _) = QueryLevels(container, key);
            partitionKey = PartitionKeyOf(levels);
            for (var i = 0; i < levels.Length; i++)
            {
                where.Add($"{ExpressionOf(container.PartitionKeyPaths[i])} = {Parameter(levels[i])}");
            }
        }

        foreach (var filter in query.Filters)
        {
            var field = container.Field(filter.Field);
            var values = FilterValues(field, filter).Select(ToParameterValue).ToList();
            var path = ExpressionOf(field.JsonPath);
            where.Add(filter.Operator switch
            {
                FilterOperator.Equals when values[0] is null => $"(NOT IS_DEFINED({path}) OR IS_NULL({path}))",
                FilterOperator.NotEquals when values[0] is null => $"(IS_DEFINED({path}) AND NOT IS_NULL({path}))",
                FilterOperator.Equals => $"{path} = {Parameter(values[0])}",
                FilterOperator.NotEquals => $"{path} != {Parameter(values[0])}",
                FilterOperator.LessThan => $"{path} < {Parameter(values[0])}",
                FilterOperator.LessThanOrEqual => $"{path} <= {Parameter(values[0])}",
                FilterOperator.GreaterThan => $"{path} > {Parameter(values[0])}",
                FilterOperator.GreaterThanOrEqual => $"{path} >= {Parameter(values[0])}",
                FilterOperator.In => $"{path} IN ({string.Join(", ", values.Select(Parameter))})",
                FilterOperator.Contains => $"CONTAINS({path}, {Parameter(values[0])}, true)",
                FilterOperator.ArrayContains => $"ARRAY_CONTAINS({path}, {Parameter(values[0])})",
                _ => throw new ArgumentException($"Unknown operator {filter.Operator}.", nameof(query)),
            });
        }

        var sql = new StringBuilder("SELECT * FROM c");
        if (where.Count > 0)
        {
            sql.Append(" WHERE ").AppendJoin(" AND ", where);
        }

        var direction = query.Sort?.Descending == true ? "DESC" : "ASC";
        sql.Append(" ORDER BY ");
        if (query.Sort is { } sort)
        {
            sql.Append(ExpressionOf(container.Field(sort.Field).JsonPath)).Append(' ').Append(direction).Append(", ");
        }

        sql.Append("c[\"id\"] ").Append(direction);
        var definition = new QueryDefinition(sql.ToString());
        foreach (var (name, value) in parameters)
        {
            definition = definition.WithParameter(name, value);
        }

        return (definition, partitionKey);
    }

    private static object? ToParameterValue(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number => value.TryGetInt64(out var l) ? l : value.GetDouble(),
        JsonValueKind.String => value.GetString(),
        _ => throw new ArgumentException($"Unsupported filter value {value.GetRawText()}.", nameof(value)),
    };

    private static MemoryStream ToStream(JsonObject json) => new(Encoding.UTF8.GetBytes(json.ToJsonString(Json)));

    private static async Task<string> ReadBodyAsync(Stream? content, CancellationToken cancellationToken)
    {
        if (content is null)
        {
            throw new DocumentStoreException("Cosmos DB answered without a document.");
        }

        using var reader = new StreamReader(content, Encoding.UTF8);
        return await reader.ReadToEndAsync(cancellationToken);
    }

    private static async Task<StoredDocument<T>> StoredAsync<T>(DocumentKey key, JsonObject written, ResponseMessage response, CancellationToken cancellationToken)
    {
        var etag = response.Headers.ETag;
        if (string.IsNullOrEmpty(etag) && response.Content is not null)
        {
            etag = ETagOf(null, await ReadBodyAsync(response.Content, cancellationToken));
        }

        return new StoredDocument<T>(key, Deserialize<T>(written.ToJsonString(Json)), etag ?? throw new DocumentStoreException("Cosmos DB answered without an ETag."));
    }

    private static string ETagOf(string? header, string body)
    {
        if (!string.IsNullOrEmpty(header))
        {
            return header;
        }

        using var document = JsonDocument.Parse(body);
        return document.RootElement.TryGetProperty("_etag", out var etag) ? etag.GetString()! : throw new DocumentStoreException("Cosmos DB answered without an ETag.");
    }

    private static void ThrowOnFailure(HttpStatusCode status, DocumentKey key, string? message)
    {
        if ((int)status is >= 200 and < 300)
        {
            return;
        }

        // The SDK's error message carries the full diagnostics after the first line: keep the reason only.
        message = message?.Split('\n')[0];
        if (message?.Length > 400)
        {
            message = message[..400];
        }

        throw status switch
        {
            HttpStatusCode.Conflict => new DocumentConflictException(key),
            HttpStatusCode.PreconditionFailed => new PreconditionFailedException(key),
            HttpStatusCode.NotFound => new DocumentNotFoundException(key),
            HttpStatusCode.TooManyRequests => new DocumentStoreException(
                $"Cosmos DB kept throttling the request (429) after the configured retries; try again later. {message}"),
            _ => new DocumentStoreException($"Cosmos DB answered {(int)status} {status}: {message}"),
        };
    }
}
