using System.Text.Json;
using System.Text.Json.Nodes;
using Itsm.Functions.Cmdb;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Kb;

/// <summary>
/// The knowledge base use cases. Agents write drafts and submit them; admins (the knowledge managers) publish or reject
/// them; the owner or an admin retires. Requesters read, search and rate published articles meant for everyone.
/// </summary>
public sealed class KbService(KbStore store, IKbSearchIndex search, TicketStore tickets, CmdbStore cmdb, TimeProvider time)
{
    public const int MaxResults = 50;
    private static readonly string[] Fields = ["title", "summary", "body", "keywords", "category", "audience", "owner", "reviewAt", "tickets", "problems", "cis"];
    private static readonly string[] ContentFields = ["title", "summary", "body", "keywords"];

    // ---- Articles --------------------------------------------------------------------------------------------

    public async Task<HttpResponseOutput> CreateAsync(ApiContext api)
    {
        if (!api.Caller.IsAgent)
        {
            return ApiFunctions.Forbidden("Only agents and admins write knowledge articles.");
        }

        var body = JsonBodyReader.Parse(api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var now = time.GetUtcNow();
        var draft = new KbArticle
        {
            Id = "kb-" + Guid.NewGuid().ToString("N")[..12],
            TenantId = api.Caller.TenantId,
            Kind = ArticleKind.Article,
            State = ArticleState.Draft,
            Title = "",
            Body = "",
            Owner = new PersonRef(api.Caller.UserId, api.Caller.Name, api.Caller.Email),
            CreatedAt = now,
            CreatedBy = api.Caller.UserId,
            UpdatedAt = now,
            UpdatedBy = api.Caller.UserId,
        };
        var article = await ReadFieldsAsync(body, draft, creating: true, api);
        body.RejectUnknown();
        if (body.HasErrors || article is null)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        var created = await store.CreateAsync(article, api.Caller.UserId, api.CancellationToken);
        var answer = await ViewAsync(created.Document, api.CancellationToken);
        return HttpResults.JsonBody(201, answer, new Dictionary<string, string> { ["Location"] = $"/api/kb/articles/{article.Id}", ["ETag"] = created.ETag });
    }

    public async Task<HttpResponseOutput> GetAsync(ApiContext api, string id)
    {
        var stored = await store.ReadAsync(api.Caller.TenantId, id, api.CancellationToken);
        return stored is null || !KbRules.MayRead(stored.Document, api.Caller)
            ? ApiFunctions.NotFound($"Article '{id}'")
            : HttpResults.Ok(await ViewAsync(stored.Document, api.CancellationToken), new Dictionary<string, string> { ["ETag"] = stored.ETag });
    }

    public async Task<HttpResponseOutput> ListAsync(ApiContext api)
    {
        var errors = new Dictionary<string, string[]>();
        var filters = new List<QueryFilter>();
        if (!api.Caller.IsAgent)
        {
            filters.Add(new QueryFilter("state", FilterOperator.Equals, nameof(ArticleState.Published)));
            filters.Add(new QueryFilter("audience", FilterOperator.Equals, nameof(ArticleAudience.Everyone)));
        }

        AddEnumFilter<ArticleState>(api, "state", filters, errors);
        AddEnumFilter<ArticleKind>(api, "kind", filters, errors);
        AddEnumFilter<ArticleAudience>(api, "audience", filters, errors);
        if (api.Request.QueryValue("owner") is { Length: > 0 } owner)
        {
            filters.Add(new QueryFilter("owner", FilterOperator.Equals, owner));
        }

        foreach (var (name, field) in new[] { ("ticket", "tickets"), ("problem", "problems"), ("ci", "cis") })
        {
            if (api.Request.QueryValue(name) is { Length: > 0 } value)
            {
                filters.Add(new QueryFilter(field, FilterOperator.ArrayContains, value));
            }
        }

        var pageSize = 50;
        if (api.Request.QueryValue("pageSize") is { } sizeText && (!int.TryParse(sizeText, out pageSize) || pageSize is < 1 or > 200))
        {
            errors["pageSize"] = ["must be a whole number from 1 to 200."];
        }

        if (errors.Count > 0)
        {
            return HttpResults.ValidationProblem(errors);
        }

        try
        {
            var page = await store.QueryAsync(api.Caller.TenantId, filters, new QuerySort("updatedAt", Descending: true), pageSize, api.Request.QueryValue("continuationToken"), api.CancellationToken);
            return HttpResults.Ok(new { items = page.Items.Select(i => Summary(i.Document)), continuationToken = page.ContinuationToken });
        }
        catch (InvalidContinuationTokenException ex)
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["continuationToken"] = [ex.Message] });
        }
    }

    public async Task<HttpResponseOutput> PatchAsync(ApiContext api, string id)
    {
        if (!api.Caller.IsAgent)
        {
            return ApiFunctions.Forbidden("Only agents and admins change knowledge articles.");
        }

        var ifMatch = api.Request.Header("If-Match");
        if (string.IsNullOrEmpty(ifMatch))
        {
            return HttpResults.Problem(428, "If-Match is required.", "Send the ETag of the version you read, so that nobody's change is overwritten.");
        }

        var body = JsonBodyReader.Parse(api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var stored = await store.ReadAsync(api.Caller.TenantId, id, api.CancellationToken);
        if (stored is null)
        {
            body.RejectUnknown();
            return ApiFunctions.NotFound($"Article '{id}'");
        }

        var current = stored.Document;
        if (current.State != ArticleState.Draft && ContentFields.FirstOrDefault(body.Has) is { } content)
        {
            body.AddError(content, $"the text of a {current.State} article is fixed; revise it (POST .../transitions {{\"action\":\"Revise\"}}) to write the next version.");
        }

        if (current.State == ArticleState.Retired && body.PresentNames.Any())
        {
            body.AddError("$", "a retired article is read-only; revise it first.");
        }

        var updated = await ReadFieldsAsync(body, current, creating: false, api);
        body.RejectUnknown();
        if (body.HasErrors || updated is null)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        if (ifMatch != stored.ETag)
        {
            return Stale(id);
        }

        try
        {
            var now = time.GetUtcNow();
            var written = await store.UpdateAsync(updated with { UpdatedAt = now, UpdatedBy = api.Caller.UserId }, ifMatch, "updated", api.Caller.UserId, string.Join(", ", body.PresentNames), api.CancellationToken);
            return HttpResults.Ok(await ViewAsync(written.Document, api.CancellationToken), new Dictionary<string, string> { ["ETag"] = written.ETag });
        }
        catch (PreconditionFailedException)
        {
            return Stale(id);
        }
    }

    public async Task<HttpResponseOutput> TransitionAsync(ApiContext api, string id)
    {
        var ifMatch = api.Request.Header("If-Match");
        if (string.IsNullOrEmpty(ifMatch))
        {
            return HttpResults.Problem(428, "If-Match is required.", "Send the ETag of the version you read.");
        }

        var body = JsonBodyReader.Parse(api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var action = body.Enum<ArticleAction>("action", required: true);
        var comment = body.String("comment", maxLength: 2000, multiLine: true);
        body.RejectUnknown();
        if (body.HasErrors)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        var stored = await store.ReadAsync(api.Caller.TenantId, id, api.CancellationToken);
        if (stored is null || !KbRules.MayRead(stored.Document, api.Caller))
        {
            return ApiFunctions.NotFound($"Article '{id}'");
        }

        var (to, refusal, status) = KbRules.Decide(stored.Document, action!.Value, api.Caller);
        if (to is null)
        {
            return status == 403 ? ApiFunctions.Forbidden(refusal!) : HttpResults.Problem(409, "Not allowed in this state.", refusal, new Dictionary<string, string[]> { ["action"] = [refusal!] });
        }

        if (action == ArticleAction.Reject && string.IsNullOrWhiteSpace(comment))
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["comment"] = ["say why the article goes back to its author."] });
        }

        if (ifMatch != stored.ETag)
        {
            return Stale(id);
        }

        try
        {
            var next = KbRules.Apply(stored.Document, to.Value, api.Caller.UserId, time.GetUtcNow());
            var written = await store.UpdateAsync(next, ifMatch, action.Value.ToString().ToLowerInvariant(), api.Caller.UserId, comment, api.CancellationToken);
            return HttpResults.Ok(await ViewAsync(written.Document, api.CancellationToken), new Dictionary<string, string> { ["ETag"] = written.ETag });
        }
        catch (PreconditionFailedException)
        {
            return Stale(id);
        }
    }

    public async Task<HttpResponseOutput> HistoryAsync(ApiContext api, string id)
    {
        if (!api.Caller.IsAgent)
        {
            return ApiFunctions.Forbidden("An article's history is for agents and admins.");
        }

        return await store.ReadAsync(api.Caller.TenantId, id, api.CancellationToken) is null
            ? ApiFunctions.NotFound($"Article '{id}'")
            : HttpResults.Ok(new { articleId = id, items = await store.HistoryAsync(api.Caller.TenantId, id, api.CancellationToken) });
    }

    public async Task<HttpResponseOutput> VersionsAsync(ApiContext api, string id)
    {
        if (!api.Caller.IsAgent)
        {
            return ApiFunctions.Forbidden("An article's earlier versions are for agents and admins.");
        }

        return await store.ReadAsync(api.Caller.TenantId, id, api.CancellationToken) is null
            ? ApiFunctions.NotFound($"Article '{id}'")
            : HttpResults.Ok(new
            {
                articleId = id,
                items = (await store.VersionsAsync(api.Caller.TenantId, id, api.CancellationToken))
                    .Select(v => new { v.Version, v.Title, v.Summary, v.Body, v.Keywords, v.PublishedAt, v.PublishedBy }),
            });
    }

    public async Task<HttpResponseOutput> FeedbackAsync(ApiContext api, string id)
    {
        var body = JsonBodyReader.Parse(api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var helpful = body.Bool("helpful");
        if (!body.Has("helpful"))
        {
            body.AddError("helpful", "is required: true or false.");
        }

        var comment = body.String("comment", maxLength: 2000, multiLine: true);
        body.RejectUnknown();
        if (body.HasErrors)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        var stored = await store.ReadAsync(api.Caller.TenantId, id, api.CancellationToken);
        if (stored is null || !KbRules.MayRead(stored.Document, api.Caller))
        {
            return ApiFunctions.NotFound($"Article '{id}'");
        }

        if (stored.Document.State != ArticleState.Published)
        {
            return HttpResults.Problem(409, "Not published.", "Feedback is counted for published articles only.");
        }

        var feedback = new KbFeedback(KbStore.FeedbackId(id, api.Caller.UserId), api.Caller.TenantId, id, api.Caller.UserId, helpful!.Value, comment, time.GetUtcNow());
        var stats = await store.RecordFeedbackAsync(feedback, api.CancellationToken);
        return HttpResults.Ok(new { articleId = id, helpful = stats.Helpful, notHelpful = stats.NotHelpful });
    }

    // ---- Search ----------------------------------------------------------------------------------------------

    public async Task<HttpResponseOutput> SearchAsync(ApiContext api)
    {
        var q = api.Request.QueryValue("q");
        var terms = KbRules.Terms(q);
        if (string.IsNullOrWhiteSpace(q) || q.Length > 500 || terms.Count == 0)
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["q"] = ["give 1 to 500 characters with at least one word of two letters or more."] });
        }

        return HttpResults.Ok(new { query = q, terms, items = await FindAsync(api.Caller, terms, matchAll: true, MaxResults, api.CancellationToken) });
    }

    /// <summary>Articles that may answer a ticket being raised, from its title and description (any word may match).</summary>
    public async Task<HttpResponseOutput> SuggestAsync(ApiContext api)
    {
        var body = JsonBodyReader.Parse(api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var title = body.String("title", required: true, maxLength: 200);
        var description = body.String("description", maxLength: 10_000, multiLine: true);
        var limit = body.Int("limit", 1, 20) ?? 5;
        body.RejectUnknown();
        if (body.HasErrors)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        // The title's words first: they say most about the ticket.
        var terms = KbRules.Terms(title + " " + description, max: 12);
        return HttpResults.Ok(new { terms, items = await FindAsync(api.Caller, terms, matchAll: false, limit, api.CancellationToken) });
    }

    private async Task<IReadOnlyList<object>> FindAsync(CallerPrincipal caller, IReadOnlyList<string> terms, bool matchAll, int limit, CancellationToken cancellationToken)
    {
        var hits = await search.SearchAsync(caller.TenantId, terms, matchAll, KbRules.AudiencesOf(caller), limit, cancellationToken);
        var items = new List<object>();
        foreach (var hit in hits)
        {
            // The index proposes; the stored article decides (state and audience as of now).
            if (await store.ReadAsync(caller.TenantId, hit.ArticleId, cancellationToken) is { } stored
                && stored.Document.State == ArticleState.Published && KbRules.MayRead(stored.Document, caller))
            {
                items.Add(new { score = Math.Round(hit.Score, 3), article = Summary(stored.Document) });
            }
        }

        return items;
    }

    // ---- Known errors and a ticket's articles ------------------------------------------------------------------

    /// <summary>
    /// Publishes a problem's workaround as its known-error article (id <c>ke-{problemId}</c>): created the first time,
    /// a new version after that. Agents may do it without review: a workaround is needed while incidents come in.
    /// </summary>
    public async Task<HttpResponseOutput> PublishKnownErrorAsync(ApiContext api)
    {
        if (!api.Caller.IsAgent)
        {
            return ApiFunctions.Forbidden("Only agents and admins publish known errors.");
        }

        var body = JsonBodyReader.Parse(api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var problemId = body.String("problemId", required: true, maxLength: 64);
        var title = body.String("title", maxLength: 200);
        var audience = body.Enum<ArticleAudience>("audience");
        body.RejectUnknown();
        if (body.HasErrors)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        var problem = (await tickets.ReadAsync(api.Caller.TenantId, problemId!, api.CancellationToken))?.Document;
        if (problem is not { Type: TicketType.Problem })
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["problemId"] = [$"no problem '{problemId}' in this tenant."] });
        }

        if (problem.Problem?.Workaround is not { Length: > 0 } workaround)
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["problemId"] = [$"problem {problem.Number} has no workaround yet; record it on the problem first (problem.workaround)."] });
        }

        var now = time.GetUtcNow();
        var id = "ke-" + problem.Id;
        var text = $"{workaround}" + (problem.Problem.RootCause is { Length: > 0 } cause ? $"\n\nRoot cause: {cause}" : "");
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var existing = await store.ReadAsync(api.Caller.TenantId, id, api.CancellationToken);
            try
            {
                if (existing is null)
                {
                    var article = new KbArticle
                    {
                        Id = id,
                        TenantId = api.Caller.TenantId,
                        Kind = ArticleKind.KnownError,
                        State = ArticleState.Published,
                        Title = title ?? $"Known error {problem.Number}: {problem.Title}",
                        Summary = $"Workaround for {problem.Number}.",
                        Body = text,
                        Audience = audience ?? ArticleAudience.Everyone,
                        Owner = problem.Assignee ?? new PersonRef(api.Caller.UserId, api.Caller.Name, api.Caller.Email),
                        Problems = [problem.Id],
                        Cis = problem.ConfigurationItems,
                        Version = 1,
                        PublishedAt = now,
                        PublishedBy = api.Caller.UserId,
                        CreatedAt = now,
                        CreatedBy = api.Caller.UserId,
                        UpdatedAt = now,
                        UpdatedBy = api.Caller.UserId,
                    };
                    var created = await store.CreateAsync(article, api.Caller.UserId, api.CancellationToken);
                    return HttpResults.JsonBody(201, await ViewAsync(created.Document, api.CancellationToken), new Dictionary<string, string> { ["Location"] = $"/api/kb/articles/{id}", ["ETag"] = created.ETag });
                }

                var current = existing.Document;
                var next = current with
                {
                    Title = title ?? current.Title,
                    Body = text,
                    Audience = audience ?? current.Audience,
                    State = ArticleState.Published,
                    Version = current.Version + 1,
                    PublishedAt = now,
                    PublishedBy = api.Caller.UserId,
                    RetiredAt = null,
                    UpdatedAt = now,
                    UpdatedBy = api.Caller.UserId,
                };
                var written = await store.UpdateAsync(next, existing.ETag, "known-error-published", api.Caller.UserId, problem.Number, api.CancellationToken);
                return HttpResults.Ok(await ViewAsync(written.Document, api.CancellationToken), new Dictionary<string, string> { ["ETag"] = written.ETag });
            }
            catch (Exception ex) when (ex is PreconditionFailedException or DocumentConflictException)
            {
                // Published concurrently: read again and make the next version.
            }
        }

        return HttpResults.Problem(409, "Changed concurrently.", "The known-error article kept changing; try again.");
    }

    /// <summary>
    /// The published articles linked to a ticket: those naming it, and for an incident the known errors (and other
    /// articles) of the problems it is caused by. Requesters may ask for their own tickets.
    /// </summary>
    public async Task<HttpResponseOutput> TicketArticlesAsync(ApiContext api, string ticketId)
    {
        var ticket = (await tickets.ReadAsync(api.Caller.TenantId, ticketId, api.CancellationToken))?.Document;
        if (ticket is null || !(api.Caller.IsAgent || ticket.Requester.Id == api.Caller.UserId))
        {
            return ApiFunctions.NotFound($"Ticket '{ticketId}'");
        }

        return HttpResults.Ok(new { ticketId, items = (await ArticlesForTicketAsync(ticket, api.Caller, api.CancellationToken)).Select(Summary) });
    }

    /// <summary>For other features (the ticket's GET): the published articles the caller may read that are linked to the ticket or its problems.</summary>
    public async Task<IReadOnlyList<KbArticle>> ArticlesForTicketAsync(Ticket ticket, CallerPrincipal caller, CancellationToken cancellationToken)
    {
        var queries = new List<QueryFilter> { new("tickets", FilterOperator.ArrayContains, ticket.Id) };
        var problems = ticket.Links.Where(l => l.Kind == TicketLinkKind.CausedBy).Select(l => l.TicketId).ToList();
        if (ticket.Type == TicketType.Problem)
        {
            problems.Add(ticket.Id);
        }

        queries.AddRange(problems.Distinct().Select(p => new QueryFilter("problems", FilterOperator.ArrayContains, p)));
        var found = new Dictionary<string, KbArticle>(StringComparer.Ordinal);
        foreach (var link in queries)
        {
            var page = await store.QueryAsync(ticket.TenantId, [link, new QueryFilter("state", FilterOperator.Equals, nameof(ArticleState.Published))], new QuerySort("updatedAt", true), MaxResults, null, cancellationToken);
            foreach (var item in page.Items.Where(i => KbRules.MayRead(i.Document, caller)))
            {
                found.TryAdd(item.Document.Id, item.Document);
            }
        }

        // Known errors first, then the most recently changed.
        return [.. found.Values.OrderBy(a => a.Kind == ArticleKind.KnownError ? 0 : 1).ThenByDescending(a => a.UpdatedAt)];
    }

    // ---- Helpers ---------------------------------------------------------------------------------------------

    private async Task<KbArticle?> ReadFieldsAsync(JsonBodyReader body, KbArticle article, bool creating, ApiContext api)
    {
        var title = body.String("title", required: creating, maxLength: 200);
        var summary = body.String("summary", maxLength: 500, multiLine: true);
        var text = body.String("body", required: creating, maxLength: 100_000, multiLine: true);
        var keywords = body.StringList("keywords", 20, 50);
        var category = body.String("category", maxLength: 100);
        var audience = body.Enum<ArticleAudience>("audience");
        var owner = body.String("owner", maxLength: 200);
        var reviewAt = body.Instant("reviewAt");
        var linkedTickets = body.StringList("tickets", 50, 64);
        var problems = body.StringList("problems", 20, 64);
        var cis = body.StringList("cis", 50, 64);
        if (reviewAt is { } review && review <= time.GetUtcNow() && body.Has("reviewAt"))
        {
            body.AddError("reviewAt", "must be in the future.");
        }

        await CheckLinksAsync(body, "tickets", linkedTickets, t => t.Type != TicketType.Problem, "ticket (not a problem)", api);
        await CheckLinksAsync(body, "problems", problems, t => t.Type == TicketType.Problem, "problem", api);
        for (var i = 0; i < (cis?.Count ?? 0); i++)
        {
            if (await cmdb.ReadAsync(api.Caller.TenantId, cis![i], api.CancellationToken) is null)
            {
                body.AddError($"cis[{i}]", $"no configuration item '{cis[i]}' in this tenant.");
            }
        }

        if (body.HasErrors)
        {
            return null;
        }

        return article with
        {
            Title = title ?? article.Title,
            Summary = body.IsExplicitNull("summary") ? null : summary ?? article.Summary,
            Body = text ?? article.Body,
            Keywords = keywords ?? article.Keywords,
            Category = body.IsExplicitNull("category") ? null : category ?? article.Category,
            Audience = audience ?? article.Audience,
            Owner = owner is null ? article.Owner : new PersonRef(owner, null, owner.Contains('@', StringComparison.Ordinal) ? owner : null),
            ReviewAt = body.IsExplicitNull("reviewAt") ? null : reviewAt?.ToUniversalTime() ?? article.ReviewAt,
            Tickets = linkedTickets ?? article.Tickets,
            Problems = problems ?? article.Problems,
            Cis = cis ?? article.Cis,
        };
    }

    private async Task CheckLinksAsync(JsonBodyReader body, string field, IReadOnlyList<string>? ids, Func<Ticket, bool> fits, string what, ApiContext api)
    {
        for (var i = 0; i < (ids?.Count ?? 0); i++)
        {
            var ticket = ids![i].Contains(DocumentKey.LevelSeparator, StringComparison.Ordinal) ? null : (await tickets.ReadAsync(api.Caller.TenantId, ids[i], api.CancellationToken))?.Document;
            if (ticket is null || !fits(ticket))
            {
                body.AddError($"{field}[{i}]", $"no {what} '{ids[i]}' in this tenant.");
            }
        }
    }

    private async Task<JsonObject> ViewAsync(KbArticle article, CancellationToken cancellationToken)
    {
        var view = JsonSerializer.SerializeToNode(article, HttpResults.Json)!.AsObject();
        view.Remove("searchText");
        view.Remove("docType");
        var stats = await store.StatsAsync(article.TenantId, article.Id, cancellationToken);
        view["feedback"] = new JsonObject { ["helpful"] = stats?.Helpful ?? 0, ["notHelpful"] = stats?.NotHelpful ?? 0 };
        return view;
    }

    private static object Summary(KbArticle a) => new
    {
        a.Id,
        a.Kind,
        a.State,
        a.Title,
        a.Summary,
        a.Category,
        a.Audience,
        owner = a.Owner.Id,
        a.Version,
        a.ReviewAt,
        a.Problems,
        a.UpdatedAt,
        link = $"/api/kb/articles/{a.Id}",
    };

    private static void AddEnumFilter<TEnum>(ApiContext api, string name, List<QueryFilter> filters, Dictionary<string, string[]> errors)
        where TEnum : struct, Enum
    {
        if (api.Request.QueryValue(name) is not { Length: > 0 } text)
        {
            return;
        }

        if (Enum.TryParse<TEnum>(text, ignoreCase: true, out var value) && !int.TryParse(text, out _))
        {
            filters.Add(new QueryFilter(name, FilterOperator.Equals, value.ToString()));
        }
        else
        {
            errors[name] = [$"must be one of: {string.Join(", ", Enum.GetNames<TEnum>())}."];
        }
    }

    private static HttpResponseOutput Stale(string id) =>
        HttpResults.Problem(412, "The article changed.", $"Article '{id}' was changed by someone else since you read it; read it again (GET) and repeat your change with the new ETag.");
}
