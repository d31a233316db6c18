using Itsm.Functions.Kb;
using Itsm.Functions.Security;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Tests.Kb;

/// <summary>The article lifecycle and the search words as pure rules.</summary>
public class KbRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    private static CallerPrincipal Caller(string user, params string[] roles) => new("contoso", user, user, null, new HashSet<string>(roles));

    private static KbArticle Article(ArticleState state, string owner = "sam") => new()
    {
        Id = "kb-1",
        TenantId = "contoso",
        Kind = ArticleKind.Article,
        State = state,
        Title = "Reset the VPN client",
        Body = "Open the client and choose Reset.",
        Owner = new PersonRef(owner),
        CreatedAt = Now,
        CreatedBy = owner,
        UpdatedAt = Now,
        UpdatedBy = owner,
    };

    [Theory]
    [InlineData(ArticleState.Draft, ArticleAction.Submit, ArticleState.InReview)]
    [InlineData(ArticleState.InReview, ArticleAction.Publish, ArticleState.Published)]
    [InlineData(ArticleState.InReview, ArticleAction.Reject, ArticleState.Draft)]
    [InlineData(ArticleState.Published, ArticleAction.Retire, ArticleState.Retired)]
    [InlineData(ArticleState.Published, ArticleAction.Revise, ArticleState.Draft)]
    [InlineData(ArticleState.Retired, ArticleAction.Revise, ArticleState.Draft)]
    public void An_admin_moves_an_article_along_the_lifecycle(ArticleState from, ArticleAction action, ArticleState to)
    {
        var (next, refusal, _) = KbRules.Decide(Article(from), action, Caller("ada", AppRoles.Admin));

        Assert.Null(refusal);
        Assert.Equal(to, next);
    }

    [Theory]
    [InlineData(ArticleState.Draft, ArticleAction.Publish)]
    [InlineData(ArticleState.Draft, ArticleAction.Retire)]
    [InlineData(ArticleState.InReview, ArticleAction.Submit)]
    [InlineData(ArticleState.Retired, ArticleAction.Publish)]
    public void Skipping_a_step_is_a_conflict_that_names_the_allowed_actions(ArticleState from, ArticleAction action)
    {
        var (next, refusal, status) = KbRules.Decide(Article(from), action, Caller("ada", AppRoles.Admin));

        Assert.Null(next);
        Assert.Equal(409, status);
        Assert.Contains("allowed", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Agents_submit_but_only_admins_publish_and_only_owners_or_admins_retire()
    {
        var agent = Caller("sam", AppRoles.Agent);
        var otherAgent = Caller("kim", AppRoles.Agent);

        Assert.Equal(ArticleState.InReview, KbRules.Decide(Article(ArticleState.Draft), ArticleAction.Submit, agent).To);
        Assert.Equal(403, KbRules.Decide(Article(ArticleState.InReview), ArticleAction.Publish, agent).Status);
        Assert.Equal(403, KbRules.Decide(Article(ArticleState.InReview), ArticleAction.Reject, agent).Status);
        Assert.Equal(ArticleState.Retired, KbRules.Decide(Article(ArticleState.Published), ArticleAction.Retire, agent).To);
        Assert.Equal(403, KbRules.Decide(Article(ArticleState.Published), ArticleAction.Retire, otherAgent).Status);
        Assert.Equal(403, KbRules.Decide(Article(ArticleState.Draft), ArticleAction.Submit, Caller("ana")).Status);
    }

    [Fact]
    public void Publishing_counts_the_version_and_revising_clears_the_retirement()
    {
        var published = KbRules.Apply(Article(ArticleState.InReview), ArticleState.Published, "ada", Now);
        var retired = KbRules.Apply(published, ArticleState.Retired, "ada", Now.AddDays(1));
        var revised = KbRules.Apply(retired, ArticleState.Draft, "sam", Now.AddDays(2));
        var republished = KbRules.Apply(revised, ArticleState.Published, "ada", Now.AddDays(3));

        Assert.Equal((1, Now, "ada"), (published.Version, published.PublishedAt!.Value, published.PublishedBy!));
        Assert.Equal(Now.AddDays(1), retired.RetiredAt);
        Assert.Null(revised.RetiredAt);
        Assert.Equal(2, republished.Version);
    }

    [Fact]
    public void Requesters_read_only_published_articles_for_everyone()
    {
        var requester = Caller("ana");
        Assert.True(KbRules.MayRead(Article(ArticleState.Published), requester));
        Assert.False(KbRules.MayRead(Article(ArticleState.Draft), requester));
        Assert.False(KbRules.MayRead(Article(ArticleState.Published) with { Audience = ArticleAudience.Agents }, requester));
        Assert.True(KbRules.MayRead(Article(ArticleState.Draft), Caller("sam", AppRoles.Agent)));
    }

    [Fact]
    public void Search_words_are_folded_without_accents_stop_words_or_duplicates()
    {
        Assert.Equal(["outlook", "crashes", "demarrage"], KbRules.Terms("Outlook crashes at the démarrage; OUTLOOK crashes!"));
        Assert.Equal("reseau wi fi lent", KbRules.Fold("Réseau Wi-Fi  LENT"));
        Assert.Empty(KbRules.Terms("the and of a"));
    }
}
