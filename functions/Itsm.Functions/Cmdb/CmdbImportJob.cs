using System.Globalization;
using System.Text.Json.Serialization;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Itsm.Functions.Cmdb;

[JsonConverter(typeof(JsonStringEnumConverter<ImportJobStatus>))]
public enum ImportJobStatus
{
    Running,
    Completed,

    /// <summary>The orchestration failed or was terminated: the rows counted were applied, the rest were not.</summary>
    Failed,
}

/// <summary>An import job: what was uploaded, by whom, and its state. Its rows and results are separate documents of its partition.</summary>
public sealed record ImportJob
{
    public const string DocumentType = "job";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public string JobId => Id;

    public string DocType => DocumentType;

    public required ImportKind Kind { get; init; }

    public required bool DryRun { get; init; }

    public required string Actor { get; init; }

    public required int TotalRows { get; init; }

    public required int Chunks { get; init; }

    public required ImportJobStatus Status { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }
}

/// <summary>A slice of the uploaded rows, applied by one activity.</summary>
public sealed record ImportChunk
{
    public const string DocumentType = "chunk";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public required string JobId { get; init; }

    public string DocType => DocumentType;

    public required int Index { get; init; }

    public required IReadOnlyList<CsvItem> Items { get; init; }
}

/// <summary>What applying a chunk did; its presence marks the chunk done, so a repeated activity does not apply it twice.</summary>
public sealed record ImportChunkResult
{
    public const string DocumentType = "result";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public required string JobId { get; init; }

    public string DocType => DocumentType;

    public required int Index { get; init; }

    public required ImportReport Report { get; init; }
}

public sealed record ImportJobInput(string TenantId, string JobId, int Chunks, int Next = 0);

/// <summary>
/// Imports an uploaded CSV in the background: one activity per chunk of rows, in order, then the job is marked
/// completed. Continues as new every <see cref="ChunksPerGeneration"/> chunks so its history stays small.
/// </summary>
public sealed class CmdbImportOrchestrator : TaskOrchestrator<ImportJobInput, int>
{
    public const string Name = "CmdbImport";
    public const int ChunksPerGeneration = 50;

    private static readonly TaskOptions Retry = TaskOptions.FromRetryPolicy(new RetryPolicy(5, TimeSpan.FromSeconds(5), 2.0, TimeSpan.FromMinutes(2)));

    public static string InstanceId(string tenantId, string jobId) => $"cmdb-import:{tenantId}:{jobId}";

    public override async Task<int> RunAsync(TaskOrchestrationContext context, ImportJobInput input)
    {
        var end = Math.Min(input.Chunks, input.Next + ChunksPerGeneration);
        for (var index = input.Next; index < end; index++)
        {
            await context.CallActivityAsync<int>(ImportChunkActivity.Name, input with { Next = index }, Retry);
        }

        if (end < input.Chunks)
        {
            context.ContinueAsNew(input with { Next = end });
            return 0;
        }

        await context.CallActivityAsync<int>(CompleteImportActivity.Name, input, Retry);
        return input.Chunks;
    }
}

/// <summary>Applies chunk <see cref="ImportJobInput.Next"/> of a job once: skipped when its result is already stored. The rows themselves are idempotent too.</summary>
public sealed class ImportChunkActivity(CmdbImportJobs jobs, CmdbImporter importer) : TaskActivity<ImportJobInput, int>
{
    public const string Name = "CmdbImport_Chunk";

    public override async Task<int> RunAsync(TaskActivityContext context, ImportJobInput input)
    {
        var ct = CancellationToken.None;
        if (await jobs.ReadResultAsync(input.TenantId, input.JobId, input.Next, ct) is not null)
        {
            return 0;
        }

        var job = await jobs.ReadAsync(input.TenantId, input.JobId, ct) ?? throw new InvalidOperationException($"Import job {input.JobId} is gone.");
        var chunk = await jobs.ReadChunkAsync(input.TenantId, input.JobId, input.Next, ct) ?? throw new InvalidOperationException($"Chunk {input.Next} of import job {input.JobId} is gone.");
        var report = await importer.ImportAsync(input.TenantId, job.Document.Actor, job.Document.Kind, chunk.Items, job.Document.DryRun, null, ct);
        await jobs.SaveResultAsync(new ImportChunkResult { Id = CmdbImportJobs.ResultId(input.Next), TenantId = input.TenantId, JobId = input.JobId, Index = input.Next, Report = report }, ct);
        return report.Rows;
    }
}

public sealed class CompleteImportActivity(CmdbImportJobs jobs, TimeProvider time) : TaskActivity<ImportJobInput, int>
{
    public const string Name = "CmdbImport_Complete";

    public override async Task<int> RunAsync(TaskActivityContext context, ImportJobInput input)
    {
        var job = await jobs.ReadAsync(input.TenantId, input.JobId, CancellationToken.None);
        if (job is { Document.Status: ImportJobStatus.Running })
        {
            await jobs.Store.ReplaceAsync(CmdbImportJobs.Imports, job.Key, job.Document with { Status = ImportJobStatus.Completed, CompletedAt = time.GetUtcNow() }, job.ETag, CancellationToken.None);
        }

        return 0;
    }
}

/// <summary>
/// The <c>cmdbImports</c> container, partitioned by (tenantId, jobId): a job, its chunks of uploaded rows and a
/// result per applied chunk. The upload API and the status API live here.
/// </summary>
public sealed class CmdbImportJobs(IDocumentStore store, TimeProvider time)
{
    public const int RowsPerChunk = 500;

    /// <summary>Stored cells per chunk, to stay well under a Cosmos document's 2 MB.</summary>
    public const int MaxChunkCharacters = 512 * 1024;

    public static readonly ContainerDefinition Imports = new(
        "cmdbImports",
        ["/tenantId", "/jobId"],
        [
            new("docType", "$.docType", FieldType.Text),
            new("index", "$.index", FieldType.Number),
        ]);

    public IDocumentStore Store => store;

    public static string ChunkId(int index) => "chunk-" + index.ToString("D6", CultureInfo.InvariantCulture);

    public static string ResultId(int index) => "result-" + index.ToString("D6", CultureInfo.InvariantCulture);

    private static DocumentKey Key(string tenantId, string jobId, string id) => new(DocumentKey.Compose(tenantId, jobId), id);

    public async Task<StoredDocument<ImportJob>?> ReadAsync(string tenantId, string jobId, CancellationToken cancellationToken) =>
        CmdbStore.IsValidId(jobId) ? await store.ReadAsync<ImportJob>(Imports, Key(tenantId, jobId, jobId), cancellationToken) : null;

    public async Task<ImportChunk?> ReadChunkAsync(string tenantId, string jobId, int index, CancellationToken cancellationToken) =>
        (await store.ReadAsync<ImportChunk>(Imports, Key(tenantId, jobId, ChunkId(index)), cancellationToken))?.Document;

    public async Task<ImportChunkResult?> ReadResultAsync(string tenantId, string jobId, int index, CancellationToken cancellationToken) =>
        (await store.ReadAsync<ImportChunkResult>(Imports, Key(tenantId, jobId, ResultId(index)), cancellationToken))?.Document;

    public async Task SaveResultAsync(ImportChunkResult result, CancellationToken cancellationToken)
    {
        try
        {
            await store.CreateAsync(Imports, Key(result.TenantId, result.JobId, result.Id), result, cancellationToken);
        }
        catch (DocumentConflictException)
        {
            // A repeated activity: the first result stands.
        }
    }

    /// <summary>POST /api/cmdb/imports?kind=cis|relationships&amp;dryRun=true with the CSV as the body: 202 and the job's address.</summary>
    public async Task<HttpResponseOutput> StartAsync(ApiContext api)
    {
        if (!api.Caller.IsAgent)
        {
            return ApiFunctions.Forbidden("Only agents and admins change the CMDB.");
        }

        var idem = await api.Services.GetRequiredService<Idempotency>().BeginAsync(api);
        if (idem.Answer is { } refused)
        {
            return refused;
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var kind = api.Request.QueryValue("kind") switch
        {
            "cis" => ImportKind.Cis,
            "relationships" => ImportKind.Relationships,
            _ => (ImportKind?)null,
        };
        if (kind is null)
        {
            errors["kind"] = ["must be cis or relationships."];
        }

        var dryRun = api.Request.QueryValue("dryRun") switch
        {
            null or "" or "false" => false,
            "true" => true,
            _ => (bool?)null,
        };
        if (dryRun is null)
        {
            errors["dryRun"] = ["must be true or false."];
        }

        if (errors.Count > 0)
        {
            return HttpResults.ValidationProblem(errors);
        }

        var (problems, items) = CmdbImporter.ReadAll(api.Request.Body ?? "", kind!.Value);
        if (problems.Count > 0)
        {
            return HttpResults.Problem(400, "The file cannot be imported.", "Nothing was applied; fix the file and upload it again.", new Dictionary<string, string[]>
            {
                ["file"] = problems.Select(p => p.Column.Length > 0 ? $"column '{p.Column}' {p.Reason}" : p.Reason).ToArray(),
            }, "urn:itsm:problem:validation");
        }

        // With an Idempotency-Key the job's id is the key's planned id: a retry finds the job (and makes sure it runs).
        if (!await idem.BindAsync(api.CancellationToken))
        {
            return idem.Answer!;
        }

        var jobId = idem.PlannedId ?? Guid.NewGuid().ToString("N");
        var tenantId = api.Caller.TenantId;
        var chunks = Split(items).ToList();
        var input = new ImportJobInput(tenantId, jobId, chunks.Count);
        var partition = DocumentKey.Compose(tenantId, jobId);
        if (await idem.ReplayAsync(Imports, partition, api.CancellationToken) is { } replay)
        {
            await api.Http.DurableClient().StartOnceAsync(CmdbImportOrchestrator.Name, CmdbImportOrchestrator.InstanceId(tenantId, jobId), input, api.CancellationToken);
            return replay;
        }

        for (var i = 0; i < chunks.Count; i++)
        {
            // Upserted: a retry of an interrupted upload writes the same chunks again.
            await store.ExecuteBatchAsync(Imports, partition, [new BatchOperation.Upsert(ChunkId(i), new ImportChunk { Id = ChunkId(i), TenantId = tenantId, JobId = jobId, Index = i, Items = chunks[i] })], api.CancellationToken);
        }

        var job = new ImportJob
        {
            Id = jobId, TenantId = tenantId, Kind = kind.Value, DryRun = dryRun!.Value, Actor = api.Caller.UserId,
            TotalRows = items.Count, Chunks = chunks.Count, Status = ImportJobStatus.Running, CreatedAt = time.GetUtcNow(),
        };
        var answer = HttpResults.JsonBody(202, await ViewAsync(job, api.CancellationToken), new Dictionary<string, string> { ["Location"] = $"/api/cmdb/imports/{jobId}" });
        List<BatchOperation> operations = [new BatchOperation.Create(jobId, job)];
        if (idem.Record(answer, jobId: jobId) is { } record)
        {
            operations.Add(new BatchOperation.Create(record.Id, record));
        }

        try
        {
            await store.ExecuteBatchAsync(Imports, partition, operations, api.CancellationToken);
        }
        catch (DocumentConflictException) when (idem.Active)
        {
            // A concurrent request with the same key stored the job first.
            return await idem.ReplayAsync(Imports, partition, api.CancellationToken) ?? answer;
        }

        await api.Http.DurableClient().StartOnceAsync(CmdbImportOrchestrator.Name, CmdbImportOrchestrator.InstanceId(tenantId, jobId), input, api.CancellationToken);
        return answer;
    }

    public async Task<HttpResponseOutput> GetAsync(ApiContext api, string jobId)
    {
        if (!api.Caller.IsAgent)
        {
            return ApiFunctions.Forbidden("The CMDB is for agents and admins.");
        }

        var job = await ReadAsync(api.Caller.TenantId, jobId, api.CancellationToken);
        if (job is null)
        {
            return ApiFunctions.NotFound($"Import job '{jobId}'");
        }

        var document = job.Document;
        if (document.Status == ImportJobStatus.Running
            && await api.Http.DurableClient().GetInstanceAsync(CmdbImportOrchestrator.InstanceId(document.TenantId, document.Id), getInputsAndOutputs: false, api.CancellationToken) is { RuntimeStatus: OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated })
        {
            document = document with { Status = ImportJobStatus.Failed };
        }

        return HttpResults.Ok(await ViewAsync(document, api.CancellationToken));
    }

    private async Task<object> ViewAsync(ImportJob job, CancellationToken cancellationToken)
    {
        var report = new ImportReport();
        string? continuation = null;
        do
        {
            var page = await store.QueryAsync<ImportChunkResult>(
                Imports,
                new DocumentQuery(DocumentKey.Compose(job.TenantId, job.Id), [new QueryFilter("docType", FilterOperator.Equals, ImportChunkResult.DocumentType)], new QuerySort("index", false), 100, continuation),
                cancellationToken);
            foreach (var result in page.Items)
            {
                report = report.Merge(result.Document.Report);
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        return new
        {
            id = job.Id,
            kind = job.Kind,
            dryRun = job.DryRun,
            status = job.Status,
            totalRows = job.TotalRows,
            processedRows = report.Rows,
            percent = job.TotalRows == 0 ? 100 : report.Rows * 100 / job.TotalRows,
            created = report.Created,
            updated = report.Updated,
            unchanged = report.Unchanged,
            rejected = report.Rejected,
            errors = report.Errors,
            errorsTruncated = report.ErrorsTruncated,
            createdAt = job.CreatedAt,
            completedAt = job.CompletedAt,
            createdBy = job.Actor,
        };
    }

    private static IEnumerable<IReadOnlyList<CsvItem>> Split(List<CsvItem> items)
    {
        var chunk = new List<CsvItem>();
        var size = 0;
        foreach (var item in items)
        {
            var itemSize = item.Row?.Cells.Sum(c => c.Key.Length + c.Value.Length + 8) ?? 200;
            if (chunk.Count > 0 && (chunk.Count >= RowsPerChunk || size + itemSize > MaxChunkCharacters))
            {
                yield return chunk;
                chunk = [];
                size = 0;
            }

            chunk.Add(item);
            size += itemSize;
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }
}

/// <summary>The Durable functions of CMDB imports.</summary>
public sealed class CmdbDurableFunctions(IServiceProvider services)
{
    [Function(CmdbImportOrchestrator.Name)]
    public static Task<int> CmdbImport([OrchestrationTrigger] TaskOrchestrationContext context, ImportJobInput input) =>
        new CmdbImportOrchestrator().RunAsync(context, input);

    [Function(ImportChunkActivity.Name)]
    public Task<int> ImportChunk([ActivityTrigger] ImportJobInput input, string instanceId) =>
        services.RunActivityAsync<ImportChunkActivity, ImportJobInput, int>(ImportChunkActivity.Name, instanceId, input);

    [Function(CompleteImportActivity.Name)]
    public Task<int> CompleteImport([ActivityTrigger] ImportJobInput input, string instanceId) =>
        services.RunActivityAsync<CompleteImportActivity, ImportJobInput, int>(CompleteImportActivity.Name, instanceId, input);
}
