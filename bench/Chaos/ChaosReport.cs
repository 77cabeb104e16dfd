using System.Text.Json;
using System.Text.Json.Serialization;

namespace BuildFarm.Chaos;

/// <summary>An invariant broken, with what shows it.</summary>
internal sealed record Violation(string Invariant, string Detail, Guid? Build = null);

/// <summary>A fault as it happened.</summary>
internal sealed record FaultRecord(
    DateTimeOffset At, double ElapsedSeconds, string Kind, string Target, string Detail, double? DownSeconds, double? BackAfterSeconds);

/// <summary>One invariant: what was checked and how often it failed.</summary>
internal sealed record CheckResult(string Invariant, string What, int Checked, int Violations);

/// <summary>The JSON report of a run (bench/results/chaos.json for the long run, .farm/chaos/RUN/report.json always).</summary>
internal sealed class ChaosReport
{
    public string Run { get; set; } = "";
    public int Seed { get; set; }
    public bool Short { get; set; }
    public string Command { get; set; } = "";
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset FinishedAt { get; set; }
    public Dictionary<string, string> Machine { get; set; } = [];
    public Dictionary<string, object> Farm { get; set; } = [];
    public Dictionary<string, int> Builds { get; set; } = [];
    public Dictionary<string, int> Faults { get; set; } = [];
    public Dictionary<string, double> Durations { get; set; } = [];
    public Dictionary<string, object> Concurrency { get; set; } = [];
    public List<CheckResult> Checks { get; set; } = [];
    public int ViolationCount { get; set; }
    public Dictionary<string, int> ViolationsByInvariant { get; set; } = [];

    /// <summary>The first violations of each invariant (at most 40 each; the counts are complete).</summary>
    public List<Violation> Violations { get; set; } = [];
    public List<FaultRecord> FaultLog { get; set; } = [];
    public List<string> Notes { get; set; } = [];
    public string? Error { get; set; }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public void Write(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");
    }
}
