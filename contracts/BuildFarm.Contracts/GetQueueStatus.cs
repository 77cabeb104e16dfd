namespace BuildFarm.Contracts;

/// <summary>Request to the Scheduler: the whole queue at a glance. Answered with <see cref="QueueStatusReport"/>.</summary>
public sealed record GetQueueStatus;
