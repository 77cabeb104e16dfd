namespace BuildFarm.Submission.Projects;

/// <summary>What every build of a project is made with (stored as the project's <c>parameters</c> jsonb).</summary>
public sealed record ProjectParameters(
    string TargetArchitecture,
    string Toolchain,
    string? SpecPath,
    string? Priority,
    string? ServerId);
