using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using CsvHelper;
using Itsm.Functions.Hosting;
using Itsm.Functions.Storage;

namespace Itsm.Functions.Cmdb;

[JsonConverter(typeof(JsonStringEnumConverter<RowResult>))]
public enum RowResult
{
    Created,
    Updated,
    Unchanged,
    Rejected,
}

public sealed record RowOutcome(int Row, RowResult Result, string? CiId, IReadOnlyList<RowError> Errors);

/// <summary>Counts of an import (or a part of one) and the first rejected rows' errors.</summary>
public sealed record ImportReport
{
    public const int MaxErrors = 1_000;

    public int Rows { get; init; }

    public int Created { get; init; }

    public int Updated { get; init; }

    public int Unchanged { get; init; }

    public int Rejected { get; init; }

    public IReadOnlyList<RowError> Errors { get; init; } = [];

    /// <summary>True when more errors happened than <see cref="Errors"/> holds.</summary>
    public bool ErrorsTruncated { get; init; }

    public ImportReport Add(RowOutcome outcome) => this with
    {
        Rows = Rows + 1,
        Created = Created + (outcome.Result == RowResult.Created ? 1 : 0),
        Updated = Updated + (outcome.Result == RowResult.Updated ? 1 : 0),
        Unchanged = Unchanged + (outcome.Result == RowResult.Unchanged ? 1 : 0),
        Rejected = Rejected + (outcome.Result == RowResult.Rejected ? 1 : 0),
        Errors = Errors.Count >= MaxErrors ? Errors : [.. Errors, .. outcome.Errors.Take(MaxErrors - Errors.Count)],
        ErrorsTruncated = ErrorsTruncated || (outcome.Errors.Count > 0 && Errors.Count + outcome.Errors.Count > MaxErrors),
    };

    public ImportReport Merge(ImportReport other) => this with
    {
        Rows = Rows + other.Rows,
        Created = Created + other.Created,
        Updated = Updated + other.Updated,
        Unchanged = Unchanged + other.Unchanged,
        Rejected = Rejected + other.Rejected,
        Errors = [.. Errors, .. other.Errors.Take(Math.Max(0, MaxErrors - Errors.Count))],
        ErrorsTruncated = ErrorsTruncated || other.ErrorsTruncated || Errors.Count + other.Errors.Count > MaxErrors,
    };
}

public sealed record ImportProgress(int RowsDone, ImportReport Report);

/// <summary>
/// Applies CSV rows to the CMDB: each row is validated on its own and written with its audit event as one batch (a
/// relationship: one under each CI), so a rejected row changes nothing and never stops the others. The rows of a chunk
/// are written together (<see cref="CmdbStore.WriteManyAsync"/>, one SQLite transaction), which is what makes a large
/// import fast; a row that lost a race with another writer is applied again on its own. CIs are matched on their
/// external key (the CI id derives from it), so importing the same file again updates or leaves CIs unchanged and never
/// duplicates them; relationships are matched on (source, type, target). A dry run validates and classifies every
/// row (created, updated, unchanged, rejected) without writing.
/// </summary>
public sealed class CmdbImporter(CmdbStore store, CmdbService service, TimeProvider time)
{
    /// <summary>Rows read ahead and applied together when <c>parallelism</c> is above one.</summary>
    public const int ParallelBatchRows = 2_000;

    /// <summary>Rows written together by one worker (one store call, so one SQLite transaction).</summary>
    public const int ChunkRows = 500;

    /// <summary>
    /// Applies rows and reports every one. With <paramref name="parallelism"/> above one, rows are applied by that
    /// many workers, each row going to the worker of its key (external key, or source key for relationships), so
    /// rows about the same CI are still applied in file order.
    /// </summary>
    public async Task<ImportReport> ImportAsync(string tenantId, string actor, ImportKind kind, IEnumerable<CsvItem> items, bool dryRun, IProgress<ImportProgress>? progress, CancellationToken cancellationToken, int parallelism = 1)
    {
        var classes = await service.ClassesAsync(tenantId, cancellationToken);
        var report = new ImportReport();
        var batch = new List<CsvItem>(ParallelBatchRows);
        foreach (var item in items)
        {
            batch.Add(item);
            if (batch.Count >= (parallelism > 1 ? ParallelBatchRows : ChunkRows))
            {
                report = await ApplyBatchAsync(report, batch);
                batch.Clear();
            }
        }

        report = await ApplyBatchAsync(report, batch);
        progress?.Report(new ImportProgress(report.Rows, report));
        return report;

        async Task<ImportReport> ApplyBatchAsync(ImportReport soFar, List<CsvItem> rows)
        {
            var workers = Math.Max(1, parallelism);
            var outcomes = new RowOutcome[rows.Count];
            if (workers == 1 && !dryRun)
            {
                cancellationToken.ThrowIfCancellationRequested();
                outcomes = kind == ImportKind.Cis
                    ? await ImportCisTogetherAsync(tenantId, actor, rows, classes, cancellationToken)
                    : await ImportRelationshipsTogetherAsync(tenantId, actor, rows, cancellationToken);
            }
            else
            {
                await Task.WhenAll(Enumerable.Range(0, workers).Select(async worker =>
                {
                    for (var i = 0; i < rows.Count; i++)
                    {
                        if (workers == 1 || WorkerOf(rows[i], kind, workers) == worker)
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                            outcomes[i] = await ApplyAsync(rows[i]);
                        }
                    }
                }));
            }

            foreach (var outcome in outcomes)
            {
                soFar = soFar.Add(outcome);
            }

            if (rows.Count > 0)
            {
                progress?.Report(new ImportProgress(soFar.Rows, soFar));
            }

            return soFar;
        }

        async Task<RowOutcome> ApplyAsync(CsvItem item) =>
            item.Row is null
                ? new RowOutcome(item.Error!.Row, RowResult.Rejected, null, [item.Error])
                : kind == ImportKind.Cis
                    ? await ImportCiAsync(tenantId, actor, item.Row, classes, dryRun, cancellationToken)
                    : await ImportRelationshipAsync(tenantId, actor, item.Row, dryRun, cancellationToken);
    }

    /// <summary>
    /// Applies a chunk of CI rows with one write: each valid row becomes its create or update batch. A row whose key an
    /// earlier row of the chunk has, and a row whose batch lost a race (created or changed meanwhile), is applied on
    /// its own afterwards, in file order, exactly as <see cref="ImportCiAsync"/> would.
    /// </summary>
    private async Task<RowOutcome[]> ImportCisTogetherAsync(string tenantId, string actor, List<CsvItem> rows, TenantCiClasses? classes, CancellationToken cancellationToken)
    {
        var outcomes = new RowOutcome?[rows.Count];
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var writes = new List<(int Index, PartitionBatch Batch, RowOutcome Written)>();
        var now = time.GetUtcNow();
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].Row is not { } row)
            {
                outcomes[i] = new RowOutcome(rows[i].Error!.Row, RowResult.Rejected, null, [rows[i].Error!]);
                continue;
            }

            var errors = new List<RowError>();
            var fields = ReadCiRow(row, classes, errors);
            if (errors.Count > 0 || fields.ExternalKey is null or { Length: 0 } || !keys.Add(fields.ExternalKey))
            {
                continue;
            }

            var existing = await store.ReadByExternalKeyAsync(tenantId, fields.ExternalKey, cancellationToken);
            var fieldErrors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            if (existing is null)
            {
                if (CiRules.Create(fields, classes, tenantId, actor, now, fieldErrors) is not { } ci)
                {
                    outcomes[i] = Rejected(row, ToRowErrors(row, fieldErrors));
                    continue;
                }

                writes.Add((i, CmdbStore.CreateBatch(ci, CmdbService.Audit(tenantId, ci.Id, "created", actor, "import", CiRules.Diff(null, ci), now)), new RowOutcome(row.Row, RowResult.Created, ci.Id, [])));
                continue;
            }

            if (CiRules.Apply(existing.Document, fields, classes, replaceAttributes: true, now, fieldErrors) is not { } updated)
            {
                outcomes[i] = Rejected(row, ToRowErrors(row, fieldErrors));
                continue;
            }

            var changes = CiRules.Diff(existing.Document, updated);
            if (changes.Count == 0)
            {
                outcomes[i] = new RowOutcome(row.Row, RowResult.Unchanged, updated.Id, []);
                continue;
            }

            writes.Add((i, CmdbStore.UpdateBatch(updated, existing.ETag, CmdbService.Audit(tenantId, updated.Id, "updated", actor, "import", changes, now)), new RowOutcome(row.Row, RowResult.Updated, updated.Id, [])));
        }

        var results = writes.Count == 0 ? [] : await store.WriteManyAsync(tenantId, [.. writes.Select(w => w.Batch)], cancellationToken);
        foreach (var (write, result) in writes.Zip(results))
        {
            if (result.Succeeded)
            {
                outcomes[write.Index] = write.Written;
            }
        }

        // The rest (invalid rows, repeated keys, lost races) go the single-row way, which reports or retries them.
        for (var i = 0; i < rows.Count; i++)
        {
            outcomes[i] ??= await ImportCiAsync(tenantId, actor, rows[i].Row!, classes, dryRun: false, cancellationToken);
        }

        return outcomes!;
    }

    /// <summary>
    /// Applies a chunk of relationship rows with one write: both copies of each valid row, a batch each. A copy that
    /// is there already fails its batch with a conflict, which counts as written before (as in
    /// <see cref="CmdbStore.AddRelationshipAsync"/>): a row whose two copies were both there is unchanged.
    /// </summary>
    private async Task<RowOutcome[]> ImportRelationshipsTogetherAsync(string tenantId, string actor, List<CsvItem> rows, CancellationToken cancellationToken)
    {
        var outcomes = new RowOutcome[rows.Count];
        var known = new Dictionary<string, bool>(StringComparer.Ordinal);
        var writes = new List<(int Index, CsvRow Row, CiRelationship Edge)>();
        var batches = new List<PartitionBatch>();
        var now = time.GetUtcNow();
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].Row is not { } row)
            {
                outcomes[i] = new RowOutcome(rows[i].Error!.Row, RowResult.Rejected, null, [rows[i].Error!]);
                continue;
            }

            var (type, errors) = await CheckRelationshipAsync(tenantId, row, known, cancellationToken);
            if (errors.Count > 0)
            {
                outcomes[i] = Rejected(row, errors);
                continue;
            }

            var added = CmdbService.RelationshipAdded(tenantId, ConfigurationItem.IdFor(row.Cells["sourceKey"]), type, ConfigurationItem.IdFor(row.Cells["targetKey"]), actor, "import", now);
            var (source, target) = CmdbStore.RelationshipBatches(added.Edge, added.SourceEvent, added.TargetEvent);
            writes.Add((i, row, added.Edge));
            batches.Add(source);
            batches.Add(target);
        }

        var results = batches.Count == 0 ? [] : await store.WriteManyAsync(tenantId, batches, cancellationToken);
        for (var w = 0; w < writes.Count; w++)
        {
            var (index, row, edge) = writes[w];
            var wrote = results[2 * w].Succeeded || results[(2 * w) + 1].Succeeded;
            outcomes[index] = new RowOutcome(row.Row, wrote ? RowResult.Created : RowResult.Unchanged, edge.Id, []);
        }

        return outcomes;
    }

    /// <summary>The row's relationship type, or why the row is rejected (type, missing or unknown CIs, a CI related to itself).</summary>
    private async Task<(RelationshipType Type, List<RowError> Errors)> CheckRelationshipAsync(string tenantId, CsvRow row, Dictionary<string, bool>? known, CancellationToken cancellationToken)
    {
        var errors = new List<RowError>();
        var sourceKey = row.Cells["sourceKey"];
        var targetKey = row.Cells["targetKey"];
        var typeText = row.Cells["type"];
        if (!Enum.TryParse<RelationshipType>(typeText, ignoreCase: true, out var type) || int.TryParse(typeText, out _))
        {
            errors.Add(new RowError(row.Row, "type", $"must be one of: {string.Join(", ", Enum.GetNames<RelationshipType>())}."));
        }

        if (sourceKey.Length == 0 || !await ExistsAsync(sourceKey))
        {
            errors.Add(new RowError(row.Row, "sourceKey", sourceKey.Length == 0 ? "is required." : $"no CI has the external key '{sourceKey}'."));
        }

        if (targetKey.Length == 0)
        {
            errors.Add(new RowError(row.Row, "targetKey", "is required."));
        }
        else if (targetKey == sourceKey)
        {
            errors.Add(new RowError(row.Row, "targetKey", "is the source itself: a CI cannot be related to itself."));
        }
        else if (!await ExistsAsync(targetKey))
        {
            errors.Add(new RowError(row.Row, "targetKey", $"no CI has the external key '{targetKey}'."));
        }

        return (type, errors);

        // Within a chunk a CI's existence is read once: the import does not delete CIs, and a chunk is a moment.
        async Task<bool> ExistsAsync(string key)
        {
            if (known is not null && known.TryGetValue(key, out var exists))
            {
                return exists;
            }

            exists = await store.ReadByExternalKeyAsync(tenantId, key, cancellationToken) is not null;
            known?.Add(key, exists);
            return exists;
        }
    }

    private static int WorkerOf(CsvItem item, ImportKind kind, int workers) =>
        item.Row?.Cells.GetValueOrDefault(kind == ImportKind.Cis ? "externalKey" : "sourceKey") is { } key
            ? (int)((uint)StringComparer.Ordinal.GetHashCode(key) % (uint)workers)
            : 0;

    public async Task<RowOutcome> ImportCiAsync(string tenantId, string actor, CsvRow row, TenantCiClasses? classes, bool dryRun, CancellationToken cancellationToken)
    {
        var errors = new List<RowError>();
        var fields = ReadCiRow(row, classes, errors);
        if (fields.ExternalKey is null or { Length: 0 })
        {
            errors.Add(new RowError(row.Row, "externalKey", "is required: the import matches CIs on it."));
        }

        if (errors.Count > 0)
        {
            return Rejected(row, errors);
        }

        for (var attempt = 0; ; attempt++)
        {
            var now = time.GetUtcNow();
            var existing = await store.ReadByExternalKeyAsync(tenantId, fields.ExternalKey!, cancellationToken);
            var fieldErrors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            if (existing is null)
            {
                var ci = CiRules.Create(fields, classes, tenantId, actor, now, fieldErrors);
                if (ci is null)
                {
                    return Rejected(row, ToRowErrors(row, fieldErrors));
                }

                if (dryRun)
                {
                    return new RowOutcome(row.Row, RowResult.Created, ci.Id, []);
                }

                try
                {
                    await store.CreateAsync(ci, CmdbService.Audit(tenantId, ci.Id, "created", actor, "import", CiRules.Diff(null, ci), now), cancellationToken);
                    return new RowOutcome(row.Row, RowResult.Created, ci.Id, []);
                }
                catch (DocumentConflictException) when (attempt < 3)
                {
                    // Created meanwhile (another import): update it instead.
                    continue;
                }
            }

            var updated = CiRules.Apply(existing.Document, fields, classes, replaceAttributes: true, now, fieldErrors);
            if (updated is null)
            {
                return Rejected(row, ToRowErrors(row, fieldErrors));
            }

            var changes = CiRules.Diff(existing.Document, updated);
            if (changes.Count == 0)
            {
                return new RowOutcome(row.Row, RowResult.Unchanged, updated.Id, []);
            }

            if (dryRun)
            {
                return new RowOutcome(row.Row, RowResult.Updated, updated.Id, []);
            }

            try
            {
                await store.UpdateAsync(updated, existing.ETag, CmdbService.Audit(tenantId, updated.Id, "updated", actor, "import", changes, now), cancellationToken);
                return new RowOutcome(row.Row, RowResult.Updated, updated.Id, []);
            }
            catch (PreconditionFailedException) when (attempt < 3)
            {
                // Changed meanwhile: apply the row to the new version.
            }
        }
    }

    public async Task<RowOutcome> ImportRelationshipAsync(string tenantId, string actor, CsvRow row, bool dryRun, CancellationToken cancellationToken)
    {
        var (type, errors) = await CheckRelationshipAsync(tenantId, row, known: null, cancellationToken);
        if (errors.Count > 0)
        {
            return Rejected(row, errors);
        }

        var sourceId = ConfigurationItem.IdFor(row.Cells["sourceKey"]);
        var targetKey = row.Cells["targetKey"];
        var outcome = await service.RelateAsync(tenantId, sourceId, type, ConfigurationItem.IdFor(targetKey), actor, "import", cancellationToken, dryRun, targetChecked: true);
        return outcome switch
        {
            CmdbService.RelateOutcome.Created created => new RowOutcome(row.Row, RowResult.Created, created.Relationship.Id, []),
            CmdbService.RelateOutcome.Exists exists => new RowOutcome(row.Row, RowResult.Unchanged, exists.Relationship.Id, []),
            CmdbService.RelateOutcome.Rejected rejected => Rejected(row, [new RowError(row.Row, "targetKey", rejected.Reason)]),
            _ => throw new InvalidOperationException("Unknown outcome."),
        };
    }

    /// <summary>Writes the tenant's CIs as CSV (one attr.* column per attribute of any class), in name order.</summary>
    public async Task<int> ExportCisAsync(string tenantId, TextWriter writer, CancellationToken cancellationToken)
    {
        var classes = await service.ClassesAsync(tenantId, cancellationToken);
        var attributes = CiClasses.BuiltIn.Concat(classes?.Classes ?? []).SelectMany(c => c.Attributes).Select(a => a.Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        await using var csv = new CsvWriter(writer, CultureInfo.InvariantCulture, leaveOpen: true);
        foreach (var column in CmdbCsvReader.CiColumns.Concat(attributes.Select(a => CmdbCsvReader.AttributePrefix + a)))
        {
            csv.WriteField(column);
        }

        await csv.NextRecordAsync();
        var count = 0;
        string? continuation = null;
        do
        {
            var page = await store.QueryAsync(tenantId, [], new QuerySort("name", false), 1000, continuation, cancellationToken);
            foreach (var ci in page.Items.Select(i => i.Document))
            {
                foreach (var value in new[] { ci.ExternalKey, ci.Class, ci.Name, ci.Status.ToString(), ci.Environment.ToString(), ci.Criticality.ToString(), ci.OwnerGroup, ci.SupportGroup, ci.Description })
                {
                    csv.WriteField(Safe(value));
                }

                foreach (var attribute in attributes)
                {
                    csv.WriteField(ci.Attributes.TryGetValue(attribute, out var value) ? Safe(value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText()) : "");
                }

                await csv.NextRecordAsync();
                count++;
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        return count;
    }

    /// <summary>Writes the tenant's relationships as CSV by external key; relationships of CIs without one are skipped (counted).</summary>
    public async Task<(int Written, int Skipped)> ExportRelationshipsAsync(string tenantId, TextWriter writer, CancellationToken cancellationToken)
    {
        var keys = new Dictionary<string, string?>(StringComparer.Ordinal);
        string? continuation = null;
        do
        {
            var page = await store.QueryAsync(tenantId, [], new QuerySort("name", false), 1000, continuation, cancellationToken);
            foreach (var ci in page.Items)
            {
                keys[ci.Document.Id] = ci.Document.ExternalKey;
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);

        await using var csv = new CsvWriter(writer, CultureInfo.InvariantCulture, leaveOpen: true);
        foreach (var column in CmdbCsvReader.RelationshipColumns)
        {
            csv.WriteField(column);
        }

        await csv.NextRecordAsync();
        var (written, skipped) = (0, 0);
        do
        {
            var page = await store.Documents.QueryAsync<CiRelationship>(
                CmdbStore.Cis,
                new DocumentQuery(tenantId, [new QueryFilter("docType", FilterOperator.Equals, CiRelationship.DocumentType), new QueryFilter("direction", FilterOperator.Equals, nameof(EdgeDirection.Out))], new QuerySort("createdAt", false), 1000, continuation),
                cancellationToken);
            foreach (var edge in page.Items.Select(i => i.Document))
            {
                if (keys.GetValueOrDefault(edge.SourceId) is not { } source || keys.GetValueOrDefault(edge.TargetId) is not { } target)
                {
                    skipped++;
                    continue;
                }

                csv.WriteField(Safe(source));
                csv.WriteField(edge.Type.ToString());
                csv.WriteField(Safe(target));
                await csv.NextRecordAsync();
                written++;
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        return (written, skipped);
    }

    /// <summary>Reads all rows of a CSV text (the API upload): file-level problems, or the rows.</summary>
    public static (List<RowError> Problems, List<CsvItem> Items) ReadAll(string text, ImportKind kind)
    {
        if (text.Contains('\uFFFD', StringComparison.Ordinal))
        {
            return ([new RowError(0, "", "The file is not valid UTF-8 (it holds undecodable bytes); save it as UTF-8.")], []);
        }

        using var reader = CmdbCsvReader.Open(new StringReader(text), kind, out var problems);
        return problems.Count > 0 ? (problems, []) : (problems, reader.Rows().ToList());
    }

    private static CiFields ReadCiRow(CsvRow row, TenantCiClasses? classes, List<RowError> errors)
    {
        string? Cell(string column) => row.Cells.TryGetValue(column, out var value) && value.Length > 0 ? Unescape(value) : null;

        TEnum? EnumCell<TEnum>(string column)
            where TEnum : struct, Enum
        {
            if (Cell(column) is not { } text)
            {
                return null;
            }

            if (Enum.TryParse<TEnum>(text, ignoreCase: true, out var value) && !int.TryParse(text, out _))
            {
                return value;
            }

            errors.Add(new RowError(row.Row, column, $"must be one of: {string.Join(", ", Enum.GetNames<TEnum>())}."));
            return null;
        }

        foreach (var (column, max) in new[] { ("externalKey", CiRules.MaxExternalKeyLength), ("name", CiRules.MaxNameLength), ("ownerGroup", CiRules.MaxGroupLength), ("supportGroup", CiRules.MaxGroupLength), ("description", 4000) })
        {
            if (Cell(column) is { } text && text.Length > max)
            {
                errors.Add(new RowError(row.Row, column, $"must be at most {max} characters."));
            }
            else if (TextRules.ControlCharacterProblem(Cell(column), multiLine: column == "description") is { } control)
            {
                errors.Add(new RowError(row.Row, column, control));
            }
        }

        var className = Cell("class");
        var definition = className is null ? null : CiClasses.Find(className, classes);
        var attributes = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (column, text) in row.Cells.Where(c => c.Key.StartsWith(CmdbCsvReader.AttributePrefix, StringComparison.Ordinal) && c.Value.Length > 0))
        {
            var name = column[CmdbCsvReader.AttributePrefix.Length..];
            if (definition is null)
            {
                continue;
            }

            if (definition.Attribute(name) is not { } attribute)
            {
                errors.Add(new RowError(row.Row, column, $"is not an attribute of class '{definition.Name}'."));
                continue;
            }

            var (value, reason) = CiClasses.FromText(attribute, text);
            if (reason is not null)
            {
                errors.Add(new RowError(row.Row, column, reason));
            }
            else
            {
                attributes[name] = value!.Value;
            }
        }

        var cleared = new HashSet<string>(new[] { "ownerGroup", "supportGroup", "description" }.Where(c => row.Cells.ContainsKey(c) && Cell(c) is null), StringComparer.Ordinal);
        return new CiFields
        {
            ExternalKey = Cell("externalKey"),
            Class = className,
            Name = Cell("name"),
            Status = EnumCell<CiStatus>("status"),
            Environment = EnumCell<CiEnvironment>("environment"),
            Criticality = EnumCell<CiCriticality>("criticality"),
            OwnerGroup = Cell("ownerGroup"),
            SupportGroup = Cell("supportGroup"),
            Description = Cell("description"),
            Attributes = attributes,
            Cleared = cleared,
        };
    }

    private static List<RowError> ToRowErrors(CsvRow row, Dictionary<string, string[]> errors) =>
        errors.SelectMany(e => e.Value.Select(reason => new RowError(row.Row, e.Key.StartsWith("attributes.", StringComparison.Ordinal) ? CmdbCsvReader.AttributePrefix + e.Key["attributes.".Length..] : e.Key, reason))).ToList();

    private static RowOutcome Rejected(CsvRow row, IReadOnlyList<RowError> errors) => new(row.Row, RowResult.Rejected, null, errors);

    /// <summary>Cells starting with = + - @ are neutralised so spreadsheets do not run them as formulas.</summary>
    private static string Safe(string? value) =>
        string.IsNullOrEmpty(value) ? "" : value[0] is '=' or '+' or '-' or '@' ? "'" + value : value;

    /// <summary>Takes back the quote <see cref="Safe"/> put before a formula-like value, so an export imports unchanged.</summary>
    private static string Unescape(string value) =>
        value.Length > 1 && value[0] == '\'' && value[1] is '=' or '+' or '-' or '@' ? value[1..] : value;
}
