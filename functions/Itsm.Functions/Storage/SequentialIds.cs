namespace Itsm.Functions.Storage;

/// <summary>
/// Ids for documents written often and never looked up by a key of their own (audit events, feed events): UUID version 7,
/// whose first bits are the time, as 32 hex digits. A store indexes every document by its id in several indexes; random
/// ids put each new entry on a different page of each index, time-ordered ids put them side by side, which is what
/// keeps a bulk write's page writes down on SQLite (see "CMDB" in docs/benchmarks.md). They reveal when the document
/// was made, which the document says anyway.
/// </summary>
public static class SequentialIds
{
    public static string Next() => Guid.CreateVersion7().ToString("N");
}
