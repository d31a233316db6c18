using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;

namespace Itsm.Functions.Tickets;

/// <summary>A tenant's own priority matrix, kept with the tenant's counters (small per-tenant documents).</summary>
public sealed record PriorityMatrixDocument(string Id, string TenantId, int[][] Cells, DateTimeOffset UpdatedAt, string UpdatedBy)
{
    public const string DocumentId = "priority-matrix";
}

/// <summary>Reads and changes the priority matrix of a tenant; tenants without one use the default.</summary>
public sealed class PriorityMatrixSettings(IDocumentStore store, TimeProvider time)
{
    public async Task<PriorityMatrix> GetAsync(string tenantId, CancellationToken cancellationToken)
    {
        var stored = await store.ReadAsync<PriorityMatrixDocument>(TicketStore.Counters, new DocumentKey(tenantId, PriorityMatrixDocument.DocumentId), cancellationToken);
        return stored is null ? PriorityMatrix.Default : new PriorityMatrix(stored.Document.Cells);
    }

    public async Task<HttpResponseOutput> GetAsync(ApiContext api)
    {
        var stored = await store.ReadAsync<PriorityMatrixDocument>(TicketStore.Counters, new DocumentKey(api.Caller.TenantId, PriorityMatrixDocument.DocumentId), api.CancellationToken);
        return HttpResults.Ok(new { matrix = stored?.Document.Cells ?? PriorityMatrix.Default.Cells, isDefault = stored is null });
    }

    /// <summary>
    /// Replaces the tenant's matrix (admins only). New tickets and later impact/urgency changes use it;
    /// existing tickets keep their priority until one of those changes.
    /// </summary>
    public async Task<HttpResponseOutput> PutAsync(ApiContext api)
    {
        if (!api.Caller.IsAdmin)
        {
            return ApiFunctions.Forbidden("Only admins change the priority matrix.");
        }

        var body = JsonBodyReader.Parse(api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var cells = ReadCells(body);
        body.RejectUnknown();
        if (cells is not null && new PriorityMatrix(cells).Validate() is { Count: > 0 } errors)
        {
            body.AddError("matrix", string.Join(" ", errors));
        }

        if (body.HasErrors || cells is null)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        var key = new DocumentKey(api.Caller.TenantId, PriorityMatrixDocument.DocumentId);
        var document = new PriorityMatrixDocument(PriorityMatrixDocument.DocumentId, api.Caller.TenantId, cells, time.GetUtcNow(), api.Caller.UserId);
        var current = await store.ReadAsync<PriorityMatrixDocument>(TicketStore.Counters, key, api.CancellationToken);
        try
        {
            if (current is null)
            {
                await store.CreateAsync(TicketStore.Counters, key, document, api.CancellationToken);
            }
            else
            {
                await store.ReplaceAsync(TicketStore.Counters, key, document, current.ETag, api.CancellationToken);
            }
        }
        catch (Exception ex) when (ex is PreconditionFailedException or DocumentConflictException)
        {
            return HttpResults.Problem(412, "The matrix was changed by someone else.", "Read it again and reapply your change.");
        }

        return HttpResults.Ok(new { matrix = cells, isDefault = false });
    }

    private static int[][]? ReadCells(JsonBodyReader body)
    {
        if (!body.Has("matrix"))
        {
            body.AddError("matrix", "is required: 3 rows (impact 1-3) of 3 priorities (urgency 1-3).");
            return null;
        }

        try
        {
            var cells = System.Text.Json.JsonSerializer.Deserialize<int[][]>(System.Text.Json.JsonDocument.Parse(body.RawJson).RootElement.GetProperty("matrix"));
            if (cells is null || cells.Length != PriorityMatrix.Levels || cells.Any(r => r is null || r.Length != PriorityMatrix.Levels))
            {
                body.AddError("matrix", "must be 3 rows (impact 1-3) of 3 priorities (urgency 1-3).");
                return null;
            }

            return cells;
        }
        catch (System.Text.Json.JsonException)
        {
            body.AddError("matrix", "must be 3 rows of 3 whole numbers.");
            return null;
        }
    }
}
