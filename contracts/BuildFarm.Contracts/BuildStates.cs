namespace BuildFarm.Contracts;

/// <summary>
/// The states of a build, as the API, the events and the Scheduler's tables spell them (the build saga's states have
/// these names; a Scheduler test holds them equal). Code that asks for builds in a state uses these, never a literal.
/// </summary>
public static class BuildStates
{
    public const string Queued = nameof(Queued);
    public const string Dispatched = nameof(Dispatched);
    public const string Building = nameof(Building);
    public const string Cancelling = nameof(Cancelling);
    public const string Completed = nameof(Completed);
    public const string Failed = nameof(Failed);
    public const string Cancelled = nameof(Cancelled);
    public const string TimedOut = nameof(TimedOut);

    /// <summary>Placed on a server and holding a slot there: dispatched, building or being cancelled.</summary>
    public static IReadOnlyList<string> OnAServer { get; } = [Dispatched, Building, Cancelling];

    /// <summary>Ended: nothing happens to the build any more.</summary>
    public static IReadOnlyList<string> Ended { get; } = [Completed, Failed, Cancelled, TimedOut];

    /// <summary>Every state a build can be in, in the order a build goes through them.</summary>
    public static IReadOnlyList<string> All { get; } = [Queued, Dispatched, Building, Cancelling, Completed, Failed, Cancelled, TimedOut];
}
