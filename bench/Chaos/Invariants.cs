using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using BuildFarm.ServiceDefaults.Auth;

namespace BuildFarm.Chaos;

/// <summary>The invariants of issue 9, checked once the farm settled.</summary>
internal sealed partial class ChaosRun
{
    [GeneratedRegex(@"^chaos-line (\S+) (\d+) (\d{8})/(\d{8})$")]
    private static partial Regex LogLine();

    private async Task CheckAsync()
    {
        using var viewer = _farm.Client("chaos", FarmRoles.Viewer);
        using var admin = _farm.Client("chaos-admin", FarmRoles.Admin);
        var accepted = _submitted.Where(s => s.Id is not null).ToList();

        // Read every accepted build again, after the quiet period.
        foreach (var s in accepted)
        {
            s.Final = await GetBuildAsync(viewer, s.Id!.Value)
                ?? throw new InvalidOperationException($"build {s.Id} could not be read after the run");
        }
        var byId = accepted.ToDictionary(s => s.Id!.Value);
        var states = accepted.GroupBy(s => s.Final.GetProperty("state").GetString()!).ToDictionary(g => g.Key, g => g.Count());
        _report.Builds = new()
        {
            ["planned"] = _submitted.Count,
            ["accepted"] = accepted.Count,
            ["notAccepted"] = _submitted.Count - accepted.Count,
            ["submissionRetries"] = _submitted.Sum(s => Math.Max(0, s.Tries - 1)),
            ["completed"] = states.GetValueOrDefault("Completed"),
            ["failed"] = states.GetValueOrDefault("Failed"),
            ["cancelled"] = states.GetValueOrDefault("Cancelled"),
            ["timedOut"] = states.GetValueOrDefault("TimedOut"),
            ["rejected"] = states.GetValueOrDefault("Rejected"),
            ["notEnded"] = accepted.Count(s => !Terminal.Contains(s.Final.GetProperty("state").GetString())),
            ["plannedToFail"] = _submitted.Count(s => s.Plan.Fail),
            ["printingALot"] = _submitted.Count(s => s.Plan.Spam),
            ["attempts"] = accepted.Sum(s => s.Final.GetProperty("attempt").GetInt32()),
            ["retried"] = accepted.Count(s => s.Final.GetProperty("attempt").GetInt32() > 1),
        };
        foreach (var s in _submitted.Where(s => s.Id is null))
        {
            _report.Notes.Add($"build {s.Plan.Number} was never accepted after {s.Tries} tries: {s.LastError}");
        }
        CheckTerminalStates(accepted);
        await CheckUnknownBuildsAsync(viewer, byId);
        var ledger = Ledger.Read(_farm.Ledger);
        CheckLedger(ledger, byId);
        await CheckSemaphoreAsync(admin);
        await CheckServersAsync(viewer);
        CheckLeftBehind();
        await CheckArtifactsAsync(viewer, accepted);
        await CheckLogsAsync(viewer, accepted, ledger);
        var latencies = accepted
            .Where(s => s.Final.TryGetProperty("finishedAt", out var f) && f.ValueKind == JsonValueKind.String)
            .Select(s => (s.Final.GetProperty("finishedAt").GetDateTimeOffset() - s.Final.GetProperty("submittedAt").GetDateTimeOffset()).TotalSeconds)
            .Order().ToArray();
        if (latencies.Length > 0)
        {
            _report.Durations["buildSubmittedToEndedP50Seconds"] = Math.Round(latencies[latencies.Length / 2], 1);
            _report.Durations["buildSubmittedToEndedP95Seconds"] = Math.Round(latencies[(int)(latencies.Length * 0.95)], 1);
            _report.Durations["buildSubmittedToEndedMaxSeconds"] = Math.Round(latencies[^1], 1);
        }
    }

    private void Check(string invariant, string what, int checkedCount, int before)
    {
        int after;
        lock (_violations)
        {
            after = _violations.Count(v => v.Invariant == invariant);
        }
        _report.Checks.Add(new CheckResult(invariant, what, checkedCount, after - before));
        Say($"check {invariant}: {after - before} violations in {checkedCount} checked ({what})");
    }

    private int Count(string invariant)
    {
        lock (_violations)
        {
            return _violations.Count(v => v.Invariant == invariant);
        }
    }

    // Every accepted build reaches exactly one terminal state, and none is stuck.
    private void CheckTerminalStates(List<Submitted> accepted)
    {
        var before = Count("one-terminal-state");
        var beforeStuck = Count("stuck");
        foreach (var s in accepted)
        {
            var b = s.Final;
            var state = b.GetProperty("state").GetString()!;
            var id = s.Id!.Value;
            if (!Terminal.Contains(state))
            {
                Violate("stuck", $"build {s.Plan.Number} is still {state} (attempt {b.GetProperty("attempt").GetInt32()}, " +
                    $"server {Text(b, "serverId")}, submitted {b.GetProperty("submittedAt").GetDateTimeOffset():HH:mm:ss}, " +
                    $"reason {Text(b, "reason")})", id);
                continue;
            }
            var ends = b.GetProperty("history").EnumerateArray()
                .Where(h => Terminal.Contains(h.GetProperty("state").GetString())).Select(h => h.GetProperty("state").GetString()).ToList();
            if (ends.Count != 1)
            {
                Violate("one-terminal-state", $"build {s.Plan.Number} ({state}) has {ends.Count} terminal entries in its history: {string.Join(", ", ends)}", id);
            }
            if (s.FirstTerminalState is { } first && first != state)
            {
                Violate("one-terminal-state", $"build {s.Plan.Number} was seen {first}, later {state}", id);
            }
            if (state == "Completed" && s.Plan.Fail)
            {
                Violate("one-terminal-state", $"build {s.Plan.Number} is Completed but its build fails every time", id);
            }
            if (state != "Completed" && !s.Plan.Fail)
            {
                _report.Notes.Add($"build {s.Plan.Number} (would succeed) ended {state} after {b.GetProperty("attempt").GetInt32()} attempts: {Text(b, "reason")}");
            }
        }
        Check("stuck", "accepted builds not in a terminal state after the quiet period", accepted.Count, beforeStuck);
        Check("one-terminal-state", "accepted builds with exactly one terminal state, unchanged once seen, matching what the build does", accepted.Count, before);
    }

    // No build exists that the harness did not have accepted (a retried submission that made a second build).
    private async Task CheckUnknownBuildsAsync(HttpClient viewer, Dictionary<Guid, Submitted> byId)
    {
        var before = Count("unknown-build");
        string? cursor = null;
        var seen = 0;
        do
        {
            var url = "/api/v1/builds?limit=200" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            using var document = JsonDocument.Parse(await viewer.GetStringAsync(new Uri(_farm.SubmissionUrl, url)));
            foreach (var b in document.RootElement.GetProperty("builds").EnumerateArray())
            {
                seen++;
                var id = b.GetProperty("id").GetGuid();
                if (!byId.ContainsKey(id))
                {
                    Violate("unknown-build", $"build {id} ({b.GetProperty("specPath").GetString()}, {b.GetProperty("state").GetString()}) was never accepted by the harness", id);
                }
            }
            cursor = document.RootElement.TryGetProperty("next", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (cursor is not null);
        Check("unknown-build", "builds the farm lists that no accepted submission made", seen, before);
    }

    // From the builds' own records: no build ran two attempts at once; never more than the limit, nor more on a server than its capacity.
    private void CheckLedger(Ledger ledger, Dictionary<Guid, Submitted> byId)
    {
        var attempts = ledger.Attempts.Values.ToList();
        var beforeOverlap = Count("attempts-at-once");
        foreach (var build in attempts.GroupBy(a => a.Build))
        {
            var list = build.OrderBy(a => a.From).ToList();
            for (var i = 0; i < list.Count; i++)
            {
                for (var j = i + 1; j < list.Count; j++)
                {
                    if (list[j].From < list[i].To)
                    {
                        Violate("attempts-at-once", $"build {Number(byId, build.Key)}: attempt {list[i].Attempt} on {list[i].Server} " +
                            $"({WallOf(list[i].From):HH:mm:ss.fff}-{WallOf(list[i].To):HH:mm:ss.fff}) and attempt {list[j].Attempt} on " +
                            $"{list[j].Server} ({WallOf(list[j].From):HH:mm:ss.fff}-{WallOf(list[j].To):HH:mm:ss.fff}) ran at once " +
                            $"for {(Math.Min(list[i].To, list[j].To) - list[j].From) / 1e6:0} ms", build.Key);
                    }
                }
            }
            var ranToEnd = list.Count(a => a.RebuildExit == 0);
            if (ranToEnd > 1)
            {
                var runs = list.Where(a => a.RebuildExit == 0).Select(a =>
                    $"{a.Attempt} on {a.Server} {WallOf(a.From):HH:mm:ss.fff}-{WallOf(a.To):HH:mm:ss.fff}" +
                    (byId.TryGetValue(build.Key, out var s) && EndOfAttempt(s.Final, a.Attempt) is { } end ? $", then {end}" : ""));
                _report.Notes.Add($"build {Number(byId, build.Key)} ran to a successful end {ranToEnd} times, one after the other (attempt " +
                    $"{string.Join("; attempt ", runs)})");
            }
        }
        Check("attempts-at-once", "builds with attempts in the ledger, pairs of attempts compared", attempts.Select(a => a.Build).Distinct().Count(), beforeOverlap);

        var beforeUnknown = Count("unknown-attempt");
        foreach (var a in attempts.Where(a => !byId.ContainsKey(a.Build)))
        {
            Violate("unknown-attempt", $"the ledger shows build {a.Build} attempt {a.Attempt} on {a.Server}, which no accepted submission made", a.Build);
        }
        Check("unknown-attempt", "attempts in the ledger of builds nobody accepted", attempts.Count, beforeUnknown);

        var beforeLimit = Count("farm-limit");
        var (peak, overruns) = Ledger.Sweep(attempts, ChaosPlan.FarmLimit);
        foreach (var o in overruns)
        {
            Violate("farm-limit", $"{o.Peak} builds ran at once (limit {ChaosPlan.FarmLimit}) from {WallOf(o.From):HH:mm:ss.fff} for " +
                $"{(o.To - o.From) / 1e6:0} ms: {string.Join(", ", o.Running.Select(a => $"{Number(byId, a.Build)}/{a.Attempt}@{a.Server}"))}");
        }
        Check("farm-limit", "ledger sweep over every attempt", attempts.Count, beforeLimit);
        var peaks = new Dictionary<string, int> { ["farm"] = peak };
        var beforeCapacity = Count("server-capacity");
        foreach (var server in attempts.GroupBy(a => a.Server))
        {
            var (serverPeak, serverOverruns) = Ledger.Sweep(server, ChaosPlan.WorkerCapacity);
            peaks[server.Key] = serverPeak;
            foreach (var o in serverOverruns)
            {
                Violate("server-capacity", $"{o.Peak} builds ran at once on {server.Key} (capacity {ChaosPlan.WorkerCapacity}) from " +
                    $"{WallOf(o.From):HH:mm:ss.fff} for {(o.To - o.From) / 1e6:0} ms: " +
                    string.Join(", ", o.Running.Select(a => $"{Number(byId, a.Build)}/{a.Attempt}")));
            }
        }
        Check("server-capacity", "ledger sweep per server", attempts.Count, beforeCapacity);
        _report.Concurrency = new()
        {
            ["peakRunning"] = peaks,
            ["ledgerRecords"] = ledger.Records,
            ["ledgerTornLines"] = ledger.Unreadable,
            ["attemptsRun"] = attempts.Count,
            ["attemptsKilledMidRun"] = attempts.Count(a => !a.RanToTheEnd),
        };
    }

    // The semaphore ends with no holder or waiter, and its limit is the farm's.
    private async Task CheckSemaphoreAsync(HttpClient admin)
    {
        var before = Count("semaphore");
        using var document = JsonDocument.Parse(await admin.GetStringAsync(new Uri(_farm.SettingsUrl, "/api/settings/build_status")));
        var status = document.RootElement;
        var holders = status.GetProperty("holders").GetArrayLength();
        var waiters = status.GetProperty("waiters").GetArrayLength();
        if (holders > 0 || waiters > 0)
        {
            Violate("semaphore", $"the semaphore still has {holders} holders and {waiters} waiters: {status.GetRawText()}");
        }
        var limit = status.GetProperty("maxConcurrent");
        if (limit.ValueKind != JsonValueKind.Number || limit.GetInt32() != ChaosPlan.FarmLimit)
        {
            Violate("semaphore", $"the semaphore's limit is {limit.GetRawText()}, not {ChaosPlan.FarmLimit}");
        }
        Check("semaphore", "holders, waiters and limit of the farm-wide semaphore (GET /api/settings/build_status)", 1, before);
    }

    // No server counts a build that no longer runs.
    private async Task CheckServersAsync(HttpClient viewer)
    {
        var before = Count("phantom-builds");
        using var document = JsonDocument.Parse(await viewer.GetStringAsync(new Uri(_farm.SubmissionUrl, "/api/v1/servers")));
        var count = 0;
        foreach (var server in document.RootElement.EnumerateArray())
        {
            count++;
            var id = server.GetProperty("id").GetString();
            var active = server.GetProperty("activeBuilds").GetInt32();
            var assigned = server.GetProperty("assignedBuilds").GetInt32();
            if (active != 0 || assigned != 0)
            {
                Violate("phantom-builds", $"server {id} still counts builds: {active} active (its heartbeat), {assigned} assigned (the dispatcher's count)");
            }
        }
        Check("phantom-builds", "servers' build counts after the quiet period (GET /api/v1/servers)", count, before);
    }

    // No process, workspace, build root or partial artifact left behind.
    private void CheckLeftBehind()
    {
        var before = Count("left-behind");
        var marker = "CHAOS_RUN=" + _runId;
        var processes = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            try
            {
                var environment = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                if (!environment.Contains(marker))
                {
                    continue;
                }
                processes++;
                var command = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim();
                Violate("left-behind", $"process {pid} of a build still runs: {command[..Math.Min(command.Length, 200)]}");
                // The harness's own farm's process: stop it, so the run leaves nothing behind itself.
                using var kill = System.Diagnostics.Process.Start("kill", ["-KILL", pid.ToString(CultureInfo.InvariantCulture)]);
                kill.WaitForExit();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }
        var places = 0;
        void Empty(string directory, string what, Func<string, bool>? ignore = null)
        {
            places++;
            if (!Directory.Exists(directory))
            {
                return;
            }
            var left = Directory.EnumerateFileSystemEntries(directory).Where(e => ignore is null || !ignore(e)).ToList();
            if (left.Count > 0)
            {
                Violate("left-behind", $"{left.Count} {what} left in {directory}: {string.Join(", ", left.Take(5).Select(Path.GetFileName))}");
            }
        }
        foreach (var worker in ChaosPlan.Workers)
        {
            Empty(_farm.WorkspaceRoot(worker), "workspaces");
            Empty(_farm.MockRoots(worker), "mock build roots");
        }
        Empty(Path.Combine(_farm.ArtifactStore, "incoming"), "partial artifact files");
        Check("left-behind", $"build processes ({processes} found), workspaces, mock roots, incoming artifacts", places, before);
    }

    // Every Completed build has its artifacts, with valid checksums.
    private async Task CheckArtifactsAsync(HttpClient viewer, List<Submitted> accepted)
    {
        var before = Count("artifacts");
        var files = 0;
        foreach (var s in accepted.Where(s => s.Final.GetProperty("state").GetString() == "Completed"))
        {
            var artifacts = s.Final.GetProperty("artifacts").EnumerateArray().ToList();
            var kinds = artifacts.Select(a => a.GetProperty("kind").GetString()).ToHashSet();
            var rpm = $"{s.Plan.Name}-1-1.x86_64.rpm";
            if (!artifacts.Any(a => a.GetProperty("name").GetString() == rpm) || !artifacts.Any(a => a.GetProperty("name").GetString() == $"{s.Plan.Name}-1-1.src.rpm"))
            {
                Violate("artifacts", $"build {s.Plan.Number} is Completed without {rpm} and its source package: " +
                    string.Join(", ", artifacts.Select(a => a.GetProperty("name").GetString())), s.Id);
            }
            foreach (var a in artifacts)
            {
                files++;
                var name = a.GetProperty("name").GetString()!;
                using var response = await viewer.GetAsync(new Uri(_farm.SubmissionUrl, a.GetProperty("url").GetString()));
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Violate("artifacts", $"build {s.Plan.Number}: {name} answers {(int)response.StatusCode}", s.Id);
                    continue;
                }
                var bytes = await response.Content.ReadAsByteArrayAsync();
                var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
                var header = response.Headers.TryGetValues("X-Checksum-Sha256", out var values) ? values.First() : null;
                if (!string.Equals(header, actual, StringComparison.OrdinalIgnoreCase)
                    || !string.Equals(a.GetProperty("sha256").GetString(), actual, StringComparison.OrdinalIgnoreCase)
                    || a.GetProperty("size").GetInt64() != bytes.Length)
                {
                    Violate("artifacts", $"build {s.Plan.Number}: {name} has sha256 {actual} ({bytes.Length} bytes), header says {header}, " +
                        $"the build says {a.GetProperty("sha256").GetString()} ({a.GetProperty("size").GetInt64()} bytes)", s.Id);
                }
            }
        }
        Check("artifacts", "artifact files of Completed builds downloaded and hashed", files, before);
    }

    // The log of each attempt: the numbered lines the build printed, each once, in order; complete when the build's run ended.
    private async Task CheckLogsAsync(HttpClient viewer, List<Submitted> accepted, Ledger ledger)
    {
        var before = Count("log");
        var logs = 0;
        foreach (var s in accepted)
        {
            var state = s.Final.GetProperty("state").GetString();
            if (state is not ("Completed" or "Failed"))
            {
                continue;
            }
            var last = s.Final.GetProperty("attempt").GetInt32();
            for (var attempt = 1; attempt <= last; attempt++)
            {
                ledger.Attempts.TryGetValue((s.Id!.Value, attempt), out var ran);
                var mustBeWhole = state == "Completed" && attempt == last;
                if (ran is null && !mustBeWhole)
                {
                    continue;
                }
                logs++;
                // An attempt whose Worker died under it keeps the log up to what that Worker had read: output still in
                // the pipe or in the unsent batch (at most 64 KiB + one pipe) went with the process, so only order and
                // uniqueness are checked, and a torn last line is allowed.
                var cutShort = !mustBeWhole && CutShortByWorkerDeath(s.Final, attempt);
                var expected = cutShort ? null : ran?.LinesPrinted ?? (mustBeWhole ? s.Plan.Lines : null);
                var text = await viewer.GetStringAsync(new Uri(_farm.SubmissionUrl, $"/api/v1/builds/{s.Id}/logs?attempt={attempt}&stream=stdout"));
                var problem = ReadLog(text, s.Id!.Value, attempt, expected);
                if (mustBeWhole && ran?.LinesPrinted is { } printed && printed != s.Plan.Lines)
                {
                    problem ??= $"the ledger says the Completed attempt printed {printed} of {s.Plan.Lines} lines";
                }
                if (problem is not null)
                {
                    Violate("log", $"build {s.Plan.Number} attempt {attempt} ({state}): {problem}", s.Id);
                }
            }
        }
        Check("log", "stdout logs of each attempt that ran, of Completed and Failed builds", logs, before);
    }

    /// <summary>What the build's history says ended this attempt when it did not end the build (its retry entry's reason).</summary>
    private static string? EndOfAttempt(JsonElement build, int attempt) =>
        build.GetProperty("history").EnumerateArray()
            .Where(h => h.GetProperty("attempt").GetInt32() == attempt && h.GetProperty("state").GetString() == "Queued"
                && h.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String)
            .Select(h => h.GetProperty("reason").GetString())
            .LastOrDefault();

    /// <summary>Whether the build's history ends this attempt because its build server restarted or was lost.</summary>
    internal static bool CutShortByWorkerDeath(JsonElement build, int attempt) =>
        build.GetProperty("history").EnumerateArray().Any(h =>
            h.GetProperty("attempt").GetInt32() == attempt
            && h.TryGetProperty("reason", out var reason) && reason.ValueKind == JsonValueKind.String
            && reason.GetString() is { } text
            && (text.Contains("build server restarted", StringComparison.Ordinal) || text.Contains("build server lost", StringComparison.Ordinal)));

    /// <summary>
    /// Null when the log holds lines 1..n of this attempt, each once and in order (n = expected when known). An attempt
    /// whose run never ended (expected unknown: its process was killed) may end in a torn line, as its output did.
    /// </summary>
    internal static string? ReadLog(string text, Guid build, int attempt, int? expected)
    {
        var next = 1;
        var lineNumber = 0;
        var lines = text.Split('\n');
        var lastNonEmpty = Array.FindLastIndex(lines, l => l.Length > 0) + 1;
        foreach (var line in lines)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }
            var m = LogLine().Match(line);
            if (!m.Success)
            {
                if (expected is null && lineNumber == lastNonEmpty)
                {
                    break;
                }
                if (line.StartsWith("chaos-line", StringComparison.Ordinal))
                {
                    return $"line {lineNumber} is damaged: {line[..Math.Min(line.Length, 120)]}";
                }
                continue;
            }
            if (m.Groups[1].Value != build.ToString() || int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) != attempt)
            {
                return $"line {lineNumber} belongs to build {m.Groups[1].Value} attempt {m.Groups[2].Value}";
            }
            var n = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
            if (n != next)
            {
                return n < next ? $"line {n} appears again (or out of order) after line {next - 1}" : $"lines {next}..{n - 1} are missing";
            }
            next++;
        }
        var got = next - 1;
        return expected is { } e && got != e ? $"{got} of the {e} lines printed arrived" : null;
    }

    private static string Text(JsonElement build, string property) =>
        build.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "-";

    private static string Number(Dictionary<Guid, Submitted> byId, Guid id) =>
        byId.TryGetValue(id, out var s) ? s.Plan.Number.ToString(CultureInfo.InvariantCulture) : id.ToString();
}
