namespace BuildFarm.Worker.Sources;

/// <summary>How a git command ended: its exit code and the last of what it printed.</summary>
internal sealed record GitResult(int ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;

    public string LastErrorLine =>
        Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? $"git exited with {ExitCode}";
}
