namespace BuildFarm.Persistence.Outbox;

/// <summary>
/// Told, in the process that committed it, about a transaction that wrote outbox rows: right after the commit, before the
/// relay sends them. A service that reacts to its own events (the Scheduler's dispatcher to a build queued or ended)
/// acts on them here without waiting for the broker to hand them back. Register as a singleton; keep it quick and
/// non-throwing (it runs on the committing consumer's thread).
/// </summary>
public interface IOutboxCommitObserver
{
    /// <param name="messageTypes">Each committed row's message types (MassTransit's URNs, e.g. <c>urn:message:Ns:Type</c>).</param>
    void Committed(IReadOnlyList<IReadOnlyList<string>> messageTypes);
}
