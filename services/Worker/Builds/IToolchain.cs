namespace BuildFarm.Worker.Builds;

/// <summary>Builds a checked-out spec into packages.</summary>
internal interface IToolchain
{
    /// <summary>Builds <see cref="BuildContext.SpecFile"/>; returns the result mapped from the tool's exit codes.</summary>
    Task<RunResult> BuildAsync(BuildContext context);

    /// <summary>The files to keep, with their kind (rpm, srpm, log), after the build (also after a failure: logs).</summary>
    IEnumerable<(string File, string Kind)> Outputs(BuildContext context, bool succeeded);

    /// <summary>Removes whatever the build left outside the workspace (mock's unique root).</summary>
    Task CleanUpAsync(BuildContext context);
}
