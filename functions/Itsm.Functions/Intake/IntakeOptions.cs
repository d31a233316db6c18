namespace Itsm.Functions.Intake;

/// <summary>
/// Intake settings (<c>Itsm:Intake</c>, app settings <c>Itsm__Intake__Sources__0__Name</c> ...). Every mailbox, Teams
/// webhook and alert endpoint is a <see cref="IntakeSource"/>: its tenant comes from here, never from the message.
/// </summary>
public sealed class IntakeOptions
{
    public const string SectionName = "Itsm:Intake";

    public List<IntakeSource> Sources { get; set; } = [];

    public IntakeSource? Find(string? name) =>
        name is null ? null : Sources.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
}

public sealed class IntakeSource
{
    /// <summary>The mailbox address, Teams webhook name or alert endpoint name, as it appears in messages and URLs.</summary>
    public string Name { get; set; } = "";

    public string TenantId { get; set; } = "";

    /// <summary>What happens to mail from senders outside <see cref="KnownSenderDomains"/>: Create, or Reject (with a polite reply).</summary>
    public UnknownSenderPolicy UnknownSenders { get; set; } = UnknownSenderPolicy.Create;

    /// <summary>Sender domains that count as known; empty: everyone is known.</summary>
    public List<string> KnownSenderDomains { get; set; } = [];

    /// <summary>Addresses the product sends from: mail from them is a loop and is ignored.</summary>
    public List<string> OwnAddresses { get; set; } = [];

    /// <summary>
    /// The shared secret of the source: the Graph subscription's clientState, the Teams outgoing webhook's
    /// HMAC key (base64, as Teams shows it) or the alert endpoint's token.
    /// </summary>
    public string? Secret { get; set; }

    /// <summary>Monitoring: whether a resolved alert resolves its incident (otherwise only a note is added).</summary>
    public bool ResolveOnAlertResolved { get; set; } = true;

    public bool IsKnownSender(string address)
    {
        if (KnownSenderDomains.Count == 0)
        {
            return true;
        }

        var at = address.LastIndexOf('@');
        return at > 0 && KnownSenderDomains.Any(d => string.Equals(d, address[(at + 1)..], StringComparison.OrdinalIgnoreCase));
    }
}

public enum UnknownSenderPolicy
{
    Create,
    Reject,
}
