using Itsm.Functions.Storage;
using Itsm.Functions.Storage.Cosmos;

namespace Itsm.Functions.Tests.Storage;

/// <summary>
/// What <c>@vercel/cosmosdb-server</c> cannot do, so those contract tests are skipped against it (and run in full
/// against the emulator or an account when ITSM_COSMOS_ENDPOINT and ITSM_COSMOS_KEY are set).
/// </summary>
public sealed class CosmosTestServerLimits : IContractLimits
{
    public string? SkipReason(ContractFeature feature)
    {
        if (CosmosServerFixture.UsesRealEndpoint)
        {
            return null;
        }

        const string Prefix = "@vercel/cosmosdb-server does not support ";
        const string Suffix = " (set ITSM_COSMOS_ENDPOINT and ITSM_COSMOS_KEY to run this against the Cosmos DB emulator).";
        return feature switch
        {
            ContractFeature.ReadsOfMissingDocuments => "@vercel/cosmosdb-server answers 500 (a TypeError in the server) instead of 404 when a document that does not exist is read" + Suffix,
            ContractFeature.OrderedQueries => Prefix + "ORDER BY queries, which every store query uses for stable keyset paging" + Suffix,
            ContractFeature.CrossPartitionQueries => Prefix + "cross-partition queries" + Suffix,
            ContractFeature.TransactionalBatch => Prefix + "atomic transactional batches" + Suffix,
            _ => null,
        };
    }
}

/// <summary>The contract against the Cosmos DB adapter (test server, or the endpoint named by the environment).</summary>
[ContractLimits(typeof(CosmosTestServerLimits))]
[Collection(CosmosServerCollection.Name)]
public sealed class CosmosDocumentStoreTests(CosmosServerFixture server) : DocumentStoreContract
{
    protected override async Task<IDocumentStore> CreateStoreAsync(IReadOnlyList<ContainerDefinition> containers)
    {
        var store = new CosmosDocumentStore(server.Client, server.DatabaseName);
        await store.EnsureContainersAsync(containers);
        return store;
    }

    [Fact]
    public void The_indexing_policy_indexes_declared_fields_only_with_composite_indexes_for_sorting()
    {
        var policy = CosmosDocumentStore.IndexingPolicyFor(Tickets);

        Assert.Equal(["/*"], policy.ExcludedPaths.Select(p => p.Path));
        Assert.Contains(policy.IncludedPaths, p => p.Path == "/tenantId/?");
        Assert.Contains(policy.IncludedPaths, p => p.Path == "/ticketId/?");
        Assert.Contains(policy.IncludedPaths, p => p.Path == "/assignee/id/?");
        Assert.Contains(policy.IncludedPaths, p => p.Path == "/tags/[]/?");
        Assert.Contains(policy.CompositeIndexes, c => c.Select(p => p.Path).SequenceEqual(["/openedAt", "/id"]));
        Assert.DoesNotContain(policy.CompositeIndexes, c => c[0].Path == "/tags");
    }

    [Fact]
    public void Queries_are_parameterised_and_routed_to_the_tenant_prefix()
    {
        var (definition, partitionKey) = CosmosDocumentStore.BuildQuery(Tickets, new DocumentQuery(
            "contoso", [new QueryFilter("title", FilterOperator.Equals, "x' OR 1=1 --")], new QuerySort("openedAt", true), 10));

        Assert.Equal(
            "SELECT * FROM c WHERE c[\"tenantId\"] = @p0 AND c[\"title\"] = @p1 ORDER BY c[\"openedAt\"] DESC, c[\"id\"] DESC",
            definition.QueryText);
        Assert.Equal(["@p0", "@p1"], definition.GetQueryParameters().Select(p => p.Name));
        Assert.Equal("[\"contoso\"]", partitionKey.ToString());
    }
}

/// <summary>Throttling (429) is retried by the SDK as configured and surfaces as a store error when retries run out.</summary>
[Collection(CosmosServerCollection.Name)]
public sealed class CosmosThrottlingTests(CosmosServerFixture server)
{
    private sealed class ThrottleDocumentReads(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public int Throttled;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Get && request.RequestUri!.AbsolutePath.Contains("/docs/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref Throttled);
                var response = new HttpResponseMessage((System.Net.HttpStatusCode)429)
                {
                    Content = new StringContent("{\"code\":\"TooManyRequests\",\"message\":\"Request rate is large.\"}"),
                };
                response.Headers.Add("x-ms-retry-after-ms", "1");
                response.Headers.Add("x-ms-activity-id", Guid.NewGuid().ToString());
                return response;
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task A_read_throttled_beyond_the_configured_retries_fails_with_a_store_error()
    {
        ThrottleDocumentReads? throttle = null;
        using var client = CosmosDocumentStore.CreateClient(
            new CosmosStoreOptions
            {
                AccountEndpoint = server.Client.Endpoint.ToString(),
                DatabaseName = server.DatabaseName,
                Key = CosmosServerFixture.UsesRealEndpoint ? Environment.GetEnvironmentVariable(CosmosServerFixture.KeyVariable) : "dGVzdCBrZXk=",
                AllowInsecureEmulatorCertificate = true,
                MaxRetryAttemptsOnRateLimitedRequests = 2,
                MaxRetryWaitTimeOnRateLimitedRequests = TimeSpan.FromSeconds(5),
            },
            credential: null,
            wrapHandler: inner => throttle = new ThrottleDocumentReads(inner));
        var container = new ContainerDefinition("throttled_" + Guid.NewGuid().ToString("N")[..8], ["/tenantId"], []);
        var store = new CosmosDocumentStore(client, server.DatabaseName);
        await store.EnsureContainersAsync([container]);

        var error = await Assert.ThrowsAsync<DocumentStoreException>(() => store.ReadAsync<TestTicket>(container, new DocumentKey("contoso", "T-1")));

        Assert.Contains("429", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, throttle!.Throttled);
    }
}

/// <summary>One Cosmos endpoint (one test-server process) for every Cosmos test class.</summary>
[CollectionDefinition(Name)]
public sealed class CosmosServerCollection : ICollectionFixture<CosmosServerFixture>
{
    public const string Name = "Cosmos test server";
}
