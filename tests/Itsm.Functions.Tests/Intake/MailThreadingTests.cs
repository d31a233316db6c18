using Itsm.Functions.Intake;
using Itsm.Functions.Notifications;
using Itsm.Functions.Tickets;
using static Itsm.Functions.Tests.Intake.IntakeFixture;

namespace Itsm.Functions.Tests.Intake;

/// <summary>Mail threading through the real app: which mail becomes a ticket, which a comment, which nothing.</summary>
public class MailThreadingTests
{
    [Fact]
    public async Task A_new_mail_raises_one_incident_for_its_sender_and_an_acknowledgement_with_the_number_in_the_subject()
    {
        await using var app = await StartAsync();

        var outcome = await app.ProcessAsync(Mail("m-1@contoso.com", "Ana@Contoso.com", "VPN down", "Since 8am the VPN drops."));

        Assert.Equal(IntakeOutcomeKind.TicketCreated, outcome.Kind);
        var ticket = Assert.Single(await app.TicketsAsync());
        Assert.Equal(("VPN down", "Since 8am the VPN drops.", "ana@contoso.com", "email"), (ticket.Title, ticket.Description, ticket.Requester.Email, ticket.Channel));
        var ack = Assert.Single(await app.OutboxAsync());
        Assert.Equal(NotificationEventKinds.TicketCreated, ack.EventKind);
        Assert.Equal("ana@contoso.com", ack.Recipient.Email);
        Assert.StartsWith($"[{ticket.Number}]", ack.Subject, StringComparison.Ordinal);
        Assert.Equal(OutboxState.Pending, ack.State);
    }

    [Fact]
    public async Task The_same_mail_delivered_twice_yields_one_ticket_and_one_acknowledgement()
    {
        await using var app = await StartAsync();
        var mail = Mail("m-1@contoso.com", "ana@contoso.com", "VPN down", "It drops.");

        var first = await app.ProcessAsync(mail);
        var second = await app.ProcessAsync(mail);

        Assert.False(first.Duplicate);
        Assert.True(second.Duplicate);
        Assert.Equal(first.TicketId, second.TicketId);
        Assert.Single(await app.TicketsAsync());
        Assert.Single(await app.OutboxAsync());
    }

    [Fact]
    public async Task A_reply_with_the_ticket_tag_is_a_comment_without_the_quoted_history()
    {
        await using var app = await StartAsync();
        var created = await app.ProcessAsync(Mail("m-1@contoso.com", "ana@contoso.com", "VPN down", "It drops."));

        var reply = await app.ProcessAsync(Mail("m-2@contoso.com", "ana@contoso.com", $"RE: [{created.TicketNumber}] We received your request: VPN down",
            "It works again after a restart.\n\n-----Original Message-----\nFrom: Service desk\nYour request was registered."));

        Assert.Equal((IntakeOutcomeKind.Commented, created.TicketId), (reply.Kind, reply.TicketId));
        Assert.Single(await app.TicketsAsync());
        var comment = Assert.Single(await app.CommentsAsync(created.TicketId!));
        Assert.Equal("It works again after a restart.", comment.Body);
        Assert.Equal(CommentKind.Public, comment.Kind);
    }

    [Fact]
    public async Task A_reply_without_a_tag_is_threaded_by_In_Reply_To()
    {
        await using var app = await StartAsync();
        var created = await app.ProcessAsync(Mail("m-1@contoso.com", "ana@contoso.com", "VPN down", "It drops."));

        var reply = await app.ProcessAsync(Mail("m-2@contoso.com", "ana@contoso.com", "Re: VPN down", "Still down.") with { InReplyTo = "<M-1@contoso.com>" });

        Assert.Equal((IntakeOutcomeKind.Commented, created.TicketId), (reply.Kind, reply.TicketId));
        Assert.Single(await app.TicketsAsync());
    }

    [Fact]
    public async Task A_reply_threaded_only_by_References_or_the_conversation_is_a_comment()
    {
        await using var app = await StartAsync();
        var created = await app.ProcessAsync(Mail("m-1@contoso.com", "ana@contoso.com", "VPN down", "It drops.") with { ConversationId = "conv-1" });

        var byReferences = await app.ProcessAsync(Mail("m-2@contoso.com", "ana@contoso.com", "Re: VPN down", "More.") with { References = ["<other@x> <m-1@contoso.com>"] });
        var byConversation = await app.ProcessAsync(Mail("m-3@contoso.com", "ana@contoso.com", "Re: VPN down", "Even more.") with { ConversationId = "conv-1" });

        Assert.Equal(created.TicketId, byReferences.TicketId);
        Assert.Equal(created.TicketId, byConversation.TicketId);
        Assert.Single(await app.TicketsAsync());
        Assert.Equal(2, (await app.CommentsAsync(created.TicketId!)).Count);
    }

    [Fact]
    public async Task A_cced_colleague_replying_adds_a_comment_under_their_name_not_a_new_ticket()
    {
        await using var app = await StartAsync();
        var created = await app.ProcessAsync(Mail("m-1@contoso.com", "ana@contoso.com", "VPN down", "It drops."));

        var reply = await app.ProcessAsync(Mail("m-2@contoso.com", "ben@contoso.com", $"RE: [{created.TicketNumber}] VPN down", "Same for me on floor 3.") with { InReplyTo = "<m-1@contoso.com>" });

        Assert.Equal(IntakeOutcomeKind.Commented, reply.Kind);
        var ticket = Assert.Single(await app.TicketsAsync());
        Assert.Equal("ana@contoso.com", ticket.Requester.Id);
        Assert.Equal("ben@contoso.com", Assert.Single(await app.CommentsAsync(ticket.Id)).Author.Email);
    }

    [Fact]
    public async Task A_forward_of_a_ticket_mail_raises_a_new_ticket_for_the_forwarder()
    {
        await using var app = await StartAsync();
        var created = await app.ProcessAsync(Mail("m-1@contoso.com", "ana@contoso.com", "VPN down", "It drops."));

        var forward = await app.ProcessAsync(Mail("m-2@contoso.com", "carl@contoso.com", $"FW: [{created.TicketNumber}] VPN down", "Can you look at this for my team?"));

        Assert.Equal(IntakeOutcomeKind.TicketCreated, forward.Kind);
        Assert.NotEqual(created.TicketId, forward.TicketId);
        Assert.Equal(2, (await app.TicketsAsync()).Count);
    }

    [Theory]
    [InlineData("Auto-Submitted", "auto-replied", "Automatic reply: VPN down")]
    [InlineData("Precedence", "bulk", "Newsletter")]
    [InlineData("X-Itsm-Notification", "abc", "[INC0001001] We received your request")]
    public async Task Auto_replies_bulk_mail_and_our_own_notifications_are_ignored(string header, string value, string subject)
    {
        await using var app = await StartAsync();

        var outcome = await app.ProcessAsync(Mail("m-9@contoso.com", "ana@contoso.com", subject, "I am out of office.") with
        {
            Headers = new Dictionary<string, string> { [header] = value },
        });

        Assert.Equal(IntakeOutcomeKind.Ignored, outcome.Kind);
        Assert.Empty(await app.TicketsAsync());
        Assert.Empty(await app.OutboxAsync());
    }

    [Fact]
    public async Task Mail_from_our_own_sending_address_is_a_loop_and_is_ignored()
    {
        await using var app = await StartAsync();

        var outcome = await app.ProcessAsync(Mail("m-1@contoso.com", "notify@contoso.com", "[INC0001001] Resolved", "Your ticket is resolved."));

        Assert.Equal(IntakeOutcomeKind.Ignored, outcome.Kind);
        Assert.Contains("loop", outcome.Detail, StringComparison.Ordinal);
        Assert.Empty(await app.TicketsAsync());
    }

    [Fact]
    public async Task Hostile_html_is_reduced_to_text_before_it_is_stored()
    {
        await using var app = await StartAsync();
        var html = """<html><head><style>p{}</style></head><body><p onclick="steal()">Printer jammed</p><script>alert('x')</script><img src=x onerror=alert(1)><a href="javascript:evil()">here</a> &lt;script&gt;</body></html>""";

        await app.ProcessAsync(Mail("m-1@contoso.com", "ana@contoso.com", "Printer", "") with { Body = null, BodyHtml = html });

        var description = Assert.Single(await app.TicketsAsync()).Description!;
        Assert.Contains("Printer jammed", description, StringComparison.Ordinal);
        Assert.DoesNotContain("alert", description, StringComparison.Ordinal);
        Assert.DoesNotContain("javascript", description, StringComparison.Ordinal);
        Assert.DoesNotContain("<", description, StringComparison.Ordinal);
        Assert.DoesNotContain("onclick", description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_sender_at_a_strict_mailbox_gets_a_polite_reply_and_no_ticket()
    {
        await using var app = await StartAsync();

        var outcome = await app.ProcessAsync(Mail("m-1@example.org", "eve@example.org", "Hello", "Sell you things", mailbox: StrictMailbox));

        Assert.Equal(IntakeOutcomeKind.Rejected, outcome.Kind);
        Assert.Empty(await app.TicketsAsync());
        var reply = Assert.Single(await app.OutboxAsync());
        Assert.Equal((NotificationEventKinds.IntakeRejected, "eve@example.org"), (reply.EventKind, reply.Recipient.Email));
    }

    [Fact]
    public async Task A_known_sender_at_the_strict_mailbox_raises_a_ticket()
    {
        await using var app = await StartAsync();

        var outcome = await app.ProcessAsync(Mail("m-1@contoso.com", "ana@contoso.com", "Hello", "Need a laptop", mailbox: StrictMailbox));

        Assert.Equal(IntakeOutcomeKind.TicketCreated, outcome.Kind);
    }

    [Fact]
    public async Task A_reply_to_a_closed_ticket_raises_a_new_one()
    {
        await using var app = await StartAsync();
        var created = await app.ProcessAsync(Mail("m-1@contoso.com", "ana@contoso.com", "VPN down", "It drops."));
        var agent = app.As("agent-7", "contoso", Itsm.Functions.Security.AppRoles.Agent);
        var cancel = await agent.PostAsync($"/api/tickets/{created.TicketId}/actions/cancel", new StringContent("{\"reason\":\"sent by mistake\"}", System.Text.Encoding.UTF8, "application/json"));
        Assert.True(cancel.IsSuccessStatusCode, await cancel.Content.ReadAsStringAsync());

        var reply = await app.ProcessAsync(Mail("m-2@contoso.com", "ana@contoso.com", $"RE: [{created.TicketNumber}] VPN down", "Again."));

        Assert.Equal(IntakeOutcomeKind.TicketCreated, reply.Kind);
        Assert.NotEqual(created.TicketId, reply.TicketId);
    }

    [Theory]
    [InlineData("RE: [INC0001234] Printer", "INC0001234", "Printer")]
    [InlineData("AW: Fwd: [req0001001] New laptop", "REQ0001001", "New laptop")]
    [InlineData("No tag [INC12] here", null, "No tag [INC12] here")]
    public void Subject_tags_and_titles(string subject, string? tag, string title)
    {
        Assert.Equal(tag, MailThreading.TicketTag(subject));
        Assert.Equal(title, MailThreading.Title(subject));
    }

    [Fact]
    public void Signatures_and_quoted_lines_are_trimmed_from_replies()
    {
        var text = "Thanks, fixed.\n> old line\n\n-- \nAna Example\nPhone 123\n";
        Assert.Equal("Thanks, fixed.", MailText.TrimReply(text));
        Assert.Equal("Works now.", MailText.TrimReply("Works now.\n\nOn Mon, 2 Mar 2026 at 08:00, Service Desk wrote:\n> Your request"));
        Assert.Equal("Ok", MailText.TrimReply("Ok\nSent from my iPhone"));
    }
}
