using System.Globalization;
using System.Text.Json;

namespace BuildFarm.Worker.Builds;

/// <summary>
/// What each attempt under way has put on this host, written down before it does so: its workspace, toolchain (so
/// its mock root), cgroup, the process groups it started and the owner tag of its partial artifact copies. An attempt
/// removes its record once it has cleaned up after itself; a record still there when a Worker starts belongs to a
/// Worker that died, and <see cref="LeftoverSweep"/> removes what it names. Kept in the server's own state directory
/// (never the workspace, which build code may write), one file per attempt.
/// </summary>
internal sealed class AttemptLedger(WorkerOptions options)
{
    private readonly string _directory = Path.Combine(options.StateDirectory, "attempts");

    /// <summary>Starts the record of an attempt (written at once).</summary>
    public Entry Open(Guid buildId, int attempt, string workspace, string toolchain, string? cgroup)
    {
        Directory.CreateDirectory(_directory);
        var entry = new Entry(Path.Combine(_directory, $"{buildId:N}-{attempt}.json"), new AttemptRecord
        {
            BuildId = buildId,
            Attempt = attempt,
            Workspace = workspace,
            Toolchain = toolchain,
            Cgroup = cgroup,
        });
        entry.Save();
        return entry;
    }

    /// <summary>Records left by earlier Workers (read before this one takes builds).</summary>
    public IReadOnlyList<(string File, AttemptRecord? Record)> Leftovers()
    {
        if (!Directory.Exists(_directory))
        {
            return [];
        }
        foreach (var partial in Directory.EnumerateFiles(_directory, "*.tmp"))
        {
            File.Delete(partial);
        }
        var records = new List<(string, AttemptRecord?)>();
        foreach (var file in Directory.EnumerateFiles(_directory, "*.json").Order(StringComparer.Ordinal))
        {
            AttemptRecord? record;
            try
            {
                record = JsonSerializer.Deserialize<AttemptRecord>(File.ReadAllBytes(file));
            }
            catch (JsonException)
            {
                record = null;
            }
            records.Add((file, record));
        }
        return records;
    }

    /// <summary>The tag an attempt's partial artifact copies carry in the store's incoming directory.</summary>
    public static string ArtifactOwner(Guid buildId, int attempt) => string.Create(CultureInfo.InvariantCulture, $"{buildId:N}-{attempt}");

    /// <summary>One attempt's record, rewritten (aside, then renamed) as it learns more.</summary>
    internal sealed class Entry(string file, AttemptRecord record)
    {
        private readonly Lock _lock = new();

        /// <summary>Remembers a process group the attempt started (its leader's start time tells it from a later one).</summary>
        public void AddGroup(int groupId)
        {
            lock (_lock)
            {
                record.Groups.Add(new ProcessGroup(groupId, ProcessTable.StartTicks(groupId) ?? 0));
                Save();
            }
        }

        /// <summary>The attempt cleaned up after itself: forget it.</summary>
        public void Complete()
        {
            lock (_lock)
            {
                File.Delete(file);
            }
        }

        internal void Save()
        {
            var partial = file + ".tmp";
            File.WriteAllBytes(partial, JsonSerializer.SerializeToUtf8Bytes(record));
            File.Move(partial, file, overwrite: true);
        }
    }
}

/// <summary>What one attempt put on the host (see <see cref="AttemptLedger"/>).</summary>
internal sealed record AttemptRecord
{
    public required Guid BuildId { get; init; }
    public required int Attempt { get; init; }
    public required string Workspace { get; init; }
    public required string Toolchain { get; init; }
    /// <summary>The attempt's cgroup name, when the sandbox gave it one.</summary>
    public string? Cgroup { get; init; }
    public List<ProcessGroup> Groups { get; init; } = [];
}

/// <summary>A process group an attempt started, with its leader's start time (clock ticks after boot).</summary>
internal sealed record ProcessGroup(int Id, long StartTicks);
