namespace BuildFarm.Submission.Logs;

/// <summary>One stored batch of log text, with its byte offset and sequence in its stream.</summary>
public sealed record LogChunk(long Id, int Attempt, string Stream, long Offset, string Text, long Sequence);
