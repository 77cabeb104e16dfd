namespace BuildFarm.Worker.Builds;

/// <summary>A step of a build ended the attempt with this result.</summary>
internal sealed class BuildStepException(RunResult result) : Exception(result.Reason)
{
    public RunResult Result { get; } = result;
}
