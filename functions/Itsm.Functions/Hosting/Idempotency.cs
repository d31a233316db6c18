using System.Security.Cryptography;
using System.Text;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;

namespace Itsm.Functions.Hosting;

/// <summary>
/// Which request an <c>Idempotency-Key</c> is bound to (per tenant and caller): the fingerprint of its method, address
/// and body, and the id planned for what it creates. Kept in the tenant's partition of <c>counters</c>; written only
/// when the request is about to create something, so a refused request binds nothing.
/// </summary>
public sealed record IdempotencyKeyDocument(string Id, string TenantId, string Fingerprint, string PlannedId, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

/// <summary>
/// The answer a keyed request gave, stored in the same partition and the same transaction as what the request created
/// (a ticket, a comment, a CI), so the key exists exactly when the creation does. Carries the partition key properties
/// of whichever container it is stored in (<see cref="TicketId"/>, <see cref="CiId"/> or <see cref="JobId"/>).
/// </summary>
public sealed record IdempotencyRecord : Tickets.ITicketRecord
{
    public const string DocumentType = "idempotency";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public string? TicketId { get; init; }

    public string? CiId { get; init; }

    public string? JobId { get; init; }

    public string DocType => DocumentType;

    public required string Fingerprint { get; init; }

    public required int Status { get; init; }

    public string? Location { get; init; }

    public string? ContentType { get; init; }

    public string? Body { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public int Sequence { get; init; }

    public Tickets.ITicketRecord WithSequence(int sequence) => this with { Sequence = sequence };
}

/// <summary>
/// <c>Idempotency-Key</c> on the POSTs that create something. The same key with the same request within
/// <see cref="Window"/> gets the original answer again (status, <c>Location</c>, body; marked
/// <c>Idempotent-Replayed: true</c>); the same key with another request gets 422. How it stays right across crashes:
/// the key's binding (<see cref="IdempotencyKeyDocument"/>) is written just before the creation, and the answer
/// (<see cref="IdempotencyRecord"/>) in the creation's own transaction, under an id made from the binding's planned id.
/// A retry after a crash between the two finds the binding but no answer and runs again with the same planned id,
/// where the answer's fixed id (or the created document's) makes a second creation impossible.
/// </summary>
public sealed class Idempotency(IDocumentStore store, TimeProvider time)
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxKeyLength = 200;
    public static readonly TimeSpan Window = TimeSpan.FromHours(24);

    /// <summary>Reads the key of <paramref name="api"/> (nothing is written): its binding if any, or the answer when the key is malformed or bound to another request.</summary>
    public async Task<IdempotencyGate> BeginAsync(ApiContext api)
    {
        if (api.Request.Header(Header) is not { } key)
        {
            return IdempotencyGate.None;
        }

        if (key.Length is 0 or > MaxKeyLength || key.Any(c => c is < '!' or > '~'))
        {
            return IdempotencyGate.Refuse(HttpResults.ValidationProblem(new Dictionary<string, string[]>
            {
                [Header] = [$"must be 1 to {MaxKeyLength} visible ASCII characters; a new UUID per request is a good key."],
            }));
        }

        var path = Uri.TryCreate(api.Request.Url, UriKind.Absolute, out var url) ? url.PathAndQuery : api.Request.Url;
        var gate = new IdempotencyGate(this, api.Caller.TenantId, "idempotency:" + Hash($"{api.Caller.UserId}\n{key}"), Hash($"{api.Request.Method}\n{path}\n{api.Request.Body}"));
        var bound = await store.ReadAsync<IdempotencyKeyDocument>(Tickets.TicketStore.Counters, gate.BindingKey, api.CancellationToken);
        return bound is null || bound.Document.ExpiresAt <= time.GetUtcNow() ? gate : gate.Bound(bound.Document);
    }

    /// <summary>Binds the key to the request (or finds it bound meanwhile); null when another request took it (422).</summary>
    internal async Task<IdempotencyKeyDocument?> BindAsync(IdempotencyGate gate, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var now = time.GetUtcNow();
            var current = await store.ReadAsync<IdempotencyKeyDocument>(Tickets.TicketStore.Counters, gate.BindingKey, cancellationToken);
            if (current is not null && current.Document.ExpiresAt > now)
            {
                return current.Document.Fingerprint == gate.Fingerprint ? current.Document : null;
            }

            var binding = new IdempotencyKeyDocument(gate.BindingKey.Id, gate.TenantId, gate.Fingerprint, Guid.NewGuid().ToString("N"), now, now + Window);
            try
            {
                if (current is null)
                {
                    await store.CreateAsync(Tickets.TicketStore.Counters, gate.BindingKey, binding, cancellationToken);
                }
                else
                {
                    // A binding older than the window: the key starts again.
                    await store.ReplaceAsync(Tickets.TicketStore.Counters, gate.BindingKey, binding, current.ETag, cancellationToken);
                }

                return binding;
            }
            catch (Exception ex) when (ex is DocumentConflictException or PreconditionFailedException)
            {
                // Another request with the key bound it first: read its binding.
            }
        }

        throw new DocumentStoreException("The idempotency key is too contended.");
    }

    internal async Task<HttpResponseOutput?> ReplayAsync(ContainerDefinition container, string partitionKey, string recordId, string fingerprint, CancellationToken cancellationToken)
    {
        var stored = await store.ReadAsync<IdempotencyRecord>(container, new DocumentKey(partitionKey, recordId), cancellationToken);
        if (stored is null)
        {
            return null;
        }

        var answer = stored.Document;
        if (answer.Fingerprint != fingerprint)
        {
            return IdempotencyGate.Mismatch();
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { [ReplayedHeader] = "true" };
        if (answer.ContentType is { } contentType)
        {
            headers["Content-Type"] = contentType;
        }

        if (answer.Location is { } location)
        {
            headers["Location"] = location;
        }

        return new HttpResponseOutput(answer.Status, headers, answer.Body);
    }

    internal DateTimeOffset Now => time.GetUtcNow();

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

/// <summary>One request's view of its <c>Idempotency-Key</c>; <see cref="None"/> when it sent none.</summary>
public sealed class IdempotencyGate
{
    private readonly Idempotency? _idempotency;
    private IdempotencyKeyDocument? _binding;

    internal IdempotencyGate(Idempotency idempotency, string tenantId, string bindingId, string fingerprint)
    {
        _idempotency = idempotency;
        TenantId = tenantId;
        BindingKey = new DocumentKey(tenantId, bindingId);
        Fingerprint = fingerprint;
    }

    private IdempotencyGate(HttpResponseOutput? answer)
    {
        Answer = answer;
        TenantId = "";
        BindingKey = new DocumentKey("", "");
        Fingerprint = "";
    }

    public static IdempotencyGate None { get; } = new((HttpResponseOutput?)null);

    /// <summary>When set, the request is answered with it and nothing runs (a malformed key, a key bound to another request).</summary>
    public HttpResponseOutput? Answer { get; private set; }

    public bool Active => _idempotency is not null;

    internal string TenantId { get; }

    internal DocumentKey BindingKey { get; }

    internal string Fingerprint { get; }

    /// <summary>The id planned for what the request creates: the binding's once bound, else a new one (the caller's).</summary>
    public string? PlannedId => _binding?.PlannedId;

    internal static IdempotencyGate Refuse(HttpResponseOutput answer) => new(answer);

    internal static HttpResponseOutput Mismatch() =>
        HttpResults.Problem(422, "The Idempotency-Key was used for another request.", $"Within {Idempotency.Window.TotalHours:0} hours a key stands for one request (method, address and body); send a new key for a new request.");

    internal IdempotencyGate Bound(IdempotencyKeyDocument binding)
    {
        if (binding.Fingerprint != Fingerprint)
        {
            Answer = Mismatch();
        }

        _binding = binding;
        return this;
    }

    /// <summary>The original answer when the request already ran to the end (its record is in <paramref name="partitionKey"/>); null otherwise.</summary>
    public async Task<HttpResponseOutput?> ReplayAsync(ContainerDefinition container, string partitionKey, CancellationToken cancellationToken) =>
        _idempotency is null || _binding is null ? null : await _idempotency.ReplayAsync(container, partitionKey, RecordId, Fingerprint, cancellationToken);

    /// <summary>
    /// Binds the key to this request just before it creates something; false (with <see cref="Answer"/> set to 422) when
    /// another request took the key meanwhile. Afterwards <see cref="PlannedId"/> is set (when it changed, replay first).
    /// </summary>
    public async Task<bool> BindAsync(CancellationToken cancellationToken)
    {
        if (_idempotency is null)
        {
            return true;
        }

        _binding = await _idempotency.BindAsync(this, cancellationToken);
        if (_binding is null)
        {
            Answer = Mismatch();
            return false;
        }

        return true;
    }

    private string RecordId => "idempotency:" + _binding!.PlannedId;

    /// <summary>The answer to store with the creation, for a ticket's (<paramref name="ticketId"/>), a CI's or an import job's partition; null without a key.</summary>
    public IdempotencyRecord? Record(HttpResponseOutput response, string? ticketId = null, string? ciId = null, string? jobId = null) =>
        _idempotency is null || _binding is null
            ? null
            : new IdempotencyRecord
            {
                Id = RecordId,
                TenantId = TenantId,
                TicketId = ticketId,
                CiId = ciId,
                JobId = jobId,
                Fingerprint = Fingerprint,
                Status = response.StatusCode,
                Location = response.Headers.TryGetValue("Location", out var location) ? location : null,
                ContentType = response.Headers.TryGetValue("Content-Type", out var contentType) ? contentType : null,
                Body = response.Body,
                CreatedAt = _idempotency.Now,
            };
}
