using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BuildFarm.Bench;
using BuildFarm.ServiceDefaults.Auth;

namespace BuildFarm.Chaos;

/// <summary>A submitted build as the harness saw it.</summary>
internal sealed class Submitted(PlannedBuild plan)
{
    public PlannedBuild Plan { get; } = plan;
    public string Key { get; } = "chaos-" + Guid.NewGuid().ToString("N");
    public Guid? Id { get; set; }
    public int Tries { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset? AcceptedAt { get; set; }

    /// <summary>The state seen when the build was first seen ended (null while it runs).</summary>
    public string? FirstTerminalState { get; set; }
    public JsonElement Final { get; set; }
}

/// <summary>
/// One chaos run: a farm of its own, builds submitted over the public HTTP API while seeded faults hit every part, a
/// quiet period, then the invariants of issue 9 checked and reported with figures.
/// </summary>
internal sealed partial class ChaosRun(ChaosOptions options, string runDirectory, string temp)
{
    private static readonly string[] Terminal = ["Completed", "Failed", "Cancelled", "TimedOut", "Rejected"];

    private readonly ChaosReport _report = new();
    private readonly List<Violation> _violations = [];
    private readonly ConcurrentQueue<FaultRecord> _faults = new();
    private readonly Stopwatch _clock = new();
    private readonly StreamWriter _log = new(Path.Combine(runDirectory, "chaos.log")) { AutoFlush = true };
    private readonly string _runId = Path.GetFileName(runDirectory);
    private FarmServers _servers = null!;
    private ChaosFarm _farm = null!;
    private ChaosPlan _plan = null!;
    private List<Submitted> _submitted = [];

    // CLOCK_MONOTONIC (Stopwatch's clock on Linux, in ns) and the wall clock at one instant: maps ledger times to UTC.
    private long _monoAtStart;
    private DateTimeOffset _wallAtStart;

    public ChaosReport Report => _report;

    public async Task<int> RunAsync()
    {
        _report.Run = _runId;
        _report.Seed = options.Seed;
        _report.Short = options.Short;
        _report.Command = "./farm chaos " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));
        _report.StartedAt = DateTimeOffset.UtcNow;
        _report.Machine = new()
        {
            ["cpu"] = BuildFarm.Bench.HostFacts.Cpu(),
            ["os"] = BuildFarm.Bench.HostFacts.Os(),
            ["loadAverageAtStart"] = BuildFarm.Bench.HostFacts.LoadAverage(),
            ["dotnet"] = Environment.Version.ToString(),
        };
        _wallAtStart = DateTimeOffset.UtcNow;
        _monoAtStart = Stopwatch.GetTimestamp() * (1_000_000_000L / Stopwatch.Frequency);
        _clock.Start();
        _plan = ChaosPlan.Make(options);
        Say($"run {_runId}: seed {options.Seed}, {_plan.Builds.Count} builds, faults for {_plan.FaultWindow.TotalMinutes:0.#} min" +
            $" ({(options.Short ? "short" : "long")}); state in {temp}, logs in {runDirectory}");
        var code = 2;
        try
        {
            await SetUpAsync();
            var setUp = _clock.Elapsed;
            var faults = RunFaultsAsync();
            await SubmitAllAsync();
            await faults;
            var ran = _clock.Elapsed;
            Say($"faults and submissions done after {ran.TotalSeconds:0} s; waiting for every accepted build to end");
            await SettleAsync();
            var settled = _clock.Elapsed;
            Say($"quiet period of {options.QuietPeriod.TotalSeconds:0} s");
            await Task.Delay(options.QuietPeriod);
            await CheckAsync();
            var checkedAt = _clock.Elapsed;
            _report.Durations["setupSeconds"] = Math.Round(setUp.TotalSeconds, 1);
            _report.Durations["faultsAndSubmissionsSeconds"] = Math.Round((ran - setUp).TotalSeconds, 1);
            _report.Durations["settleSeconds"] = Math.Round((settled - ran).TotalSeconds, 1);
            _report.Durations["checksSeconds"] = Math.Round((checkedAt - settled).TotalSeconds, 1);
            code = _violations.Count == 0 ? 0 : 1;
        }
        catch (Exception ex)
        {
            _report.Error = ex.ToString();
            Say("the run failed: " + ex.Message);
        }
        finally
        {
            _report.Machine["loadAverageAtEnd"] = BuildFarm.Bench.HostFacts.LoadAverage();
            await TearDownAsync();
            _report.Durations["totalSeconds"] = Math.Round(_clock.Elapsed.TotalSeconds, 1);
            _report.FinishedAt = DateTimeOffset.UtcNow;
            _report.FaultLog = [.. _faults.OrderBy(f => f.At)];
            _report.Faults = new()
            {
                ["kills"] = _report.FaultLog.Count(f => f.Kind == "kill"),
                ["restarts"] = _report.FaultLog.Count(f => f.Kind == "kill" && f.BackAfterSeconds is not null),
                ["outages"] = _report.FaultLog.Count(f => f.Kind == "outage"),
                ["pauses"] = _report.FaultLog.Count(f => f.Kind == "pause"),
            };
            _report.ViolationCount = _violations.Count;
            _report.ViolationsByInvariant = _violations.GroupBy(v => v.Invariant).ToDictionary(g => g.Key, g => g.Count());
            _report.Violations = [.. _violations.GroupBy(v => v.Invariant).SelectMany(g => g.Take(40))];
        }
        return code;
    }

    private void Say(string text)
    {
        var line = $"[chaos {DateTimeOffset.UtcNow:HH:mm:ss.fff} +{_clock.Elapsed.TotalSeconds,6:0.0}s] {text}";
        Console.WriteLine(line);
        lock (_log)
        {
            _log.WriteLine(line);
        }
    }

    private void Violate(string invariant, string detail, Guid? build = null)
    {
        lock (_violations)
        {
            _violations.Add(new Violation(invariant, detail, build));
        }
    }

    private DateTimeOffset WallOf(long monotonicNs) => _wallAtStart + TimeSpan.FromTicks((monotonicNs - _monoAtStart) / 100);

    // ------------------------------------------------------------------------------------------------------------
    // Set-up and tear-down

    private async Task SetUpAsync()
    {
        _servers = new FarmServers(Path.Combine(temp, "servers"), "chaos", fsync: false);
        Say($"starting PostgreSQL :{_servers.PgPort}, Redis :{_servers.RedisPort}, RabbitMQ :{_servers.AmqpPort} " +
            $"(management :{_servers.ManagementPort}, node {_servers.Node})");
        await _servers.StartAllAsync();
        _farm = new ChaosFarm(_servers, temp, _runId, Say);
        await _farm.PrepareAsync(_plan.Builds);
        await _farm.StartAsync();
        _report.Farm = new()
        {
            ["limit"] = ChaosPlan.FarmLimit,
            ["schedulers"] = ChaosPlan.Schedulers.Length,
            ["workers"] = ChaosPlan.Workers.ToDictionary(w => w, _ => ChaosPlan.WorkerCapacity),
            ["toolchain"] = "mock:fedora-40-x86_64 (the stand-in mock, tests/mock/mock)",
            ["ports"] = new Dictionary<string, int>
            {
                ["postgres"] = _servers.PgPort, ["redis"] = _servers.RedisPort, ["amqp"] = _servers.AmqpPort,
            },
        };
        Say("farm ready");
    }

    private async Task TearDownAsync()
    {
        try
        {
            if (_farm is not null)
            {
                await _farm.DisposeAsync();
            }
        }
        catch (Exception ex)
        {
            Say("stopping the services: " + ex.Message);
        }
        try
        {
            if (_servers is not null)
            {
                await _servers.StopAllAsync();
            }
        }
        catch (Exception ex)
        {
            Say("stopping the servers: " + ex.Message);
        }
        if (!options.Keep)
        {
            try
            {
                Directory.Delete(temp, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Say($"could not remove {temp}: {ex.Message}");
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Faults

    private async Task RunFaultsAsync()
    {
        var mandatory = _plan.MandatoryFaults(options);
        var origin = _clock.Elapsed;
        var index = 0;
        foreach (var fault in _plan.Faults)
        {
            await Task.Delay(fault.GapBefore);
            if (index >= mandatory && _clock.Elapsed - origin >= _plan.FaultWindow)
            {
                break;
            }
            index++;
            try
            {
                await InjectAsync(fault);
            }
            catch (Exception ex)
            {
                Violate("service-restart", $"{fault}: {ex.Message}");
                Say($"fault {fault} went wrong: {ex.Message}");
            }
        }
    }

    private async Task InjectAsync(PlannedFault fault)
    {
        var at = DateTimeOffset.UtcNow;
        var elapsed = _clock.Elapsed.TotalSeconds;
        var watch = Stopwatch.StartNew();
        switch (fault.Kind)
        {
            case FaultKind.Kill:
            {
                var running = await AwaitBuildsOnAsync(fault.Target);
                var pid = _farm[fault.Target].Pid;
                await _farm.KillAsync(fault.Target);
                Say($"SIGKILL {fault.Target} (pid {pid})");
                // As a supervisor would: a moment, then the same service again.
                await Task.Delay(TimeSpan.FromSeconds(1));
                double? back = null;
                try
                {
                    await _farm.StartAsync(fault.Target);
                    back = watch.Elapsed.TotalSeconds;
                }
                finally
                {
                    _faults.Enqueue(new FaultRecord(at, Math.Round(elapsed, 1), "kill", fault.Target, $"SIGKILL pid {pid}{running}, restarted",
                        null, back is { } b ? Math.Round(b, 1) : null));
                }
                break;
            }
            case FaultKind.Outage:
            {
                await _servers.StopAsync(fault.Target);
                var stopped = watch.Elapsed;
                Say($"stopped {fault.Target} (took {stopped.TotalSeconds:0.0} s); starting it again in {fault.Hold.TotalSeconds:0} s");
                await Task.Delay(fault.Hold);
                await _servers.StartAsync(fault.Target);
                Say($"{fault.Target} is back (down {(watch.Elapsed - stopped).TotalSeconds:0.0} s)");
                _faults.Enqueue(new FaultRecord(at, Math.Round(elapsed, 1), "outage", fault.Target, "stopped, data kept, started again",
                    Math.Round((watch.Elapsed - stopped).TotalSeconds, 1), Math.Round(watch.Elapsed.TotalSeconds, 1)));
                break;
            }
            case FaultKind.Pause:
            {
                var running = await AwaitBuildsOnAsync(fault.Target);
                var pid = _farm[fault.Target].Pid;
                await _farm.PauseAsync(fault.Target);
                Say($"SIGSTOP {fault.Target} (pid {pid}) for {fault.Hold.TotalSeconds:0} s");
                await Task.Delay(fault.Hold);
                await _farm.ContinueAsync(fault.Target);
                Say($"SIGCONT {fault.Target} (pid {pid})");
                _faults.Enqueue(new FaultRecord(at, Math.Round(elapsed, 1), "pause", fault.Target, $"SIGSTOP pid {pid}{running}, then SIGCONT",
                    Math.Round(watch.Elapsed.TotalSeconds, 1), null));
                break;
            }
        }
    }

    /// <summary>
    /// For a Worker: waits (up to 30 s) until one of its builds is in the middle of its run, so the fault hits a build
    /// (the ledger shows a rebuild phase started, not ended, that wrote a record within the last second). Returns
    /// ", N builds running" for the fault log; empty for other services.
    /// </summary>
    private async Task<string> AwaitBuildsOnAsync(string target)
    {
        if (!ChaosPlan.Workers.Contains(target))
        {
            return "";
        }
        var until = _clock.Elapsed + TimeSpan.FromSeconds(30);
        while (true)
        {
            var now = Stopwatch.GetTimestamp() * (1_000_000_000L / Stopwatch.Frequency);
            var open = FollowLedger(target);
            var running = open.Values.Count(t => now - t < 1_000_000_000L);
            if (running > 0)
            {
                return $" with {running} build{(running == 1 ? "" : "s")} running on it";
            }
            if (_clock.Elapsed > until)
            {
                return " with no build running on it (none came within 30 s)";
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
    }

    private readonly Dictionary<(string Server, string Build, int Attempt), long> _openRebuilds = [];
    private long _ledgerRead;

    /// <summary>Reads the ledger's new complete lines; returns the rebuild phases of <paramref name="server"/> not ended yet, with their last record's time.</summary>
    private Dictionary<(string, int), long> FollowLedger(string server)
    {
        using (var file = new FileStream(_farm.Ledger, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            file.Seek(_ledgerRead, SeekOrigin.Begin);
            using var reader = new StreamReader(file);
            var rest = reader.ReadToEnd();
            var complete = rest.LastIndexOf('\n') + 1;
            _ledgerRead += System.Text.Encoding.UTF8.GetByteCount(rest.AsSpan(0, complete));
            foreach (var line in rest[..complete].Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                try
                {
                    using var document = JsonDocument.Parse(line);
                    var r = document.RootElement;
                    if (r.GetProperty("phase").GetString() != "rebuild")
                    {
                        continue;
                    }
                    var key = (r.GetProperty("server").GetString()!, r.GetProperty("build").GetString()!, r.GetProperty("attempt").GetInt32());
                    if (r.GetProperty("ev").GetString() == "end")
                    {
                        _openRebuilds.Remove(key);
                    }
                    else
                    {
                        _openRebuilds[key] = r.GetProperty("t").GetInt64();
                    }
                }
                catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
                {
                }
            }
        }
        return _openRebuilds.Where(o => o.Key.Server == server).ToDictionary(o => (o.Key.Build, o.Key.Attempt), o => o.Value);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Submissions

    private async Task SubmitAllAsync()
    {
        _submitted = [.. _plan.Builds.Select(b => new Submitted(b))];
        var origin = _clock.Elapsed;
        using var http = _farm.Client("chaos", FarmRoles.Submitter);
        await Task.WhenAll(_submitted.Select(async s =>
        {
            var wait = origin + s.Plan.SubmitAt - _clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
            await SubmitAsync(http, s);
        }));
        var accepted = _submitted.Count(s => s.Id is not null);
        Say($"submitted: {accepted} of {_submitted.Count} accepted");
    }

    /// <summary>POSTs the build, and again with the same Idempotency-Key after an error or no answer, for up to 5 minutes.</summary>
    private async Task SubmitAsync(HttpClient http, Submitted s)
    {
        var body = new
        {
            sourceRepository = _farm.RepositoryUrl,
            branch = "main",
            commitHash = _farm.Commit,
            targetArchitecture = "x86_64",
            toolchain = "mock:fedora-40-x86_64",
            specPath = s.Plan.SpecPath,
            priority = "normal",
        };
        var giveUp = _clock.Elapsed + TimeSpan.FromMinutes(5);
        while (true)
        {
            s.Tries++;
            var delay = TimeSpan.FromSeconds(1);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_farm.SubmissionUrl, "/api/v1/builds"))
                {
                    Content = JsonContent.Create(body),
                };
                request.Headers.Add("Idempotency-Key", s.Key);
                using var response = await http.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                if (response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK)
                {
                    using var document = JsonDocument.Parse(text);
                    s.Id = document.RootElement.GetProperty("id").GetGuid();
                    s.AcceptedAt = DateTimeOffset.UtcNow;
                    return;
                }
                s.LastError = $"{(int)response.StatusCode} {text[..Math.Min(text.Length, 300)]}";
                if (response.StatusCode is not (HttpStatusCode.TooManyRequests or >= HttpStatusCode.InternalServerError))
                {
                    Violate("submission", $"build {s.Plan.Number} refused: {s.LastError}");
                    return;
                }
                if (response.Headers.RetryAfter?.Delta is { } after)
                {
                    delay = TimeSpan.FromSeconds(Math.Clamp(after.TotalSeconds, 0.5, 10));
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or KeyNotFoundException)
            {
                s.LastError = ex.GetType().Name + ": " + ex.Message;
            }
            if (_clock.Elapsed > giveUp)
            {
                return;
            }
            await Task.Delay(delay);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Settling

    private async Task SettleAsync()
    {
        var deadline = _clock.Elapsed + options.SettleTimeout;
        var accepted = _submitted.Where(s => s.Id is not null).ToList();
        using var http = _farm.Client("chaos", FarmRoles.Viewer);
        var lastSaid = TimeSpan.Zero;
        while (true)
        {
            foreach (var s in accepted.Where(s => s.FirstTerminalState is null))
            {
                if (await GetBuildAsync(http, s.Id!.Value) is { } build)
                {
                    var state = build.GetProperty("state").GetString()!;
                    if (Terminal.Contains(state))
                    {
                        s.FirstTerminalState = state;
                    }
                }
            }
            var open = accepted.Count(s => s.FirstTerminalState is null);
            if (open == 0)
            {
                Say($"every accepted build ended ({accepted.Count})");
                return;
            }
            if (_clock.Elapsed > deadline)
            {
                Say($"{open} builds still not ended after {options.SettleTimeout.TotalMinutes:0.#} min of quiet");
                return;
            }
            if (_clock.Elapsed - lastSaid > TimeSpan.FromSeconds(15))
            {
                Say($"{open} of {accepted.Count} builds not ended yet");
                lastSaid = _clock.Elapsed;
            }
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
    }

    private async Task<JsonElement?> GetBuildAsync(HttpClient http, Guid id)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(_farm.SubmissionUrl, $"/api/v1/builds/{id}"));
                if (response.IsSuccessStatusCode)
                {
                    using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                    return document.RootElement.Clone();
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        return null;
    }
}
