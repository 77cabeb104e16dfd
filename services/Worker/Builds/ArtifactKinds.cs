namespace BuildFarm.Worker.Builds;

/// <summary>The kinds of artifact a worker reports.</summary>
public static class ArtifactKinds
{
    public const string Rpm = "rpm";
    public const string SourceRpm = "srpm";
    public const string Log = "log";
}
