namespace BuildFarm.Contracts;

/// <summary>
/// A batch of log text from one stream of one attempt. <see cref="Offset"/> is the byte offset of the
/// batch in that stream, so a reader can put batches in order and spot a gap or a repeat.
/// </summary>
public sealed record BuildLogAppended
{
    public required Guid BuildId { get; init; }
    public required int Attempt { get; init; }
    /// <summary>The build server running the attempt (only its Worker may send the batch).</summary>
    public required string ServerId { get; init; }
    /// <summary>stdout, stderr, build or root.</summary>
    public required string Stream { get; init; }
    public required long Sequence { get; init; }
    public required long Offset { get; init; }
    public required string Text { get; init; }
    public required DateTimeOffset At { get; init; }
}
