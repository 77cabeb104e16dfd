using System.Globalization;

namespace BuildFarm.Farm.Bench;

/// <summary>
/// The command line of <c>./farm bench</c>: which scenarios, how many runs, and every size (issue 10's by default;
/// <c>--quick</c> shrinks each so the whole run takes about a minute and a half).
/// </summary>
internal sealed record BenchOptions
{
    public const string Usage =
        "usage: ./farm bench [--quick] [--scenario N[,N...]] [--runs R] [--fsync on|off] [--out FILE] [--record|--no-record] [--keep]\n" +
        "         [--raw-messages N] [--raw-round-trips N] [--idle-builds N] [--idle-rate PER_S] [--handoff-builds N]\n" +
        "         [--throughput-builds N] [--mass-submissions N] [--mass-clients N] [--mass-queue N] [--mass-probes N]\n" +
        "         [--mass-requests N] [--log-bytes N]";

    public bool Quick { get; init; }
    public IReadOnlySet<int> Scenarios { get; init; } = new HashSet<int> { 1, 2, 3, 4, 5, 6 };
    public int Runs { get; init; } = 3;

    /// <summary>PostgreSQL's fsync: on by default (every state change persisted, as a real farm runs).</summary>
    public bool Fsync { get; init; } = true;

    /// <summary>Where bench.json goes; null: bench/results/bench.json when recording, else only the run's folder.</summary>
    public string? Out { get; init; }

    /// <summary>Write bench/results/bench.json and a line in bench/results/README.md (default: a full run does, --quick not).</summary>
    public bool? Record { get; init; }

    public bool Keep { get; init; }

    // Scenario 1: raw RabbitMQ.
    public int RawMessages { get; init; } = 20_000;
    public int RawRoundTrips { get; init; } = 1_000;

    // Scenario 2: idle dispatch, at a steady rate below capacity.
    public int IdleBuilds { get; init; } = 60;
    public double IdleRate { get; init; } = 2;

    // Scenario 3: slot hand-off at limit 1.
    public int HandOffBuilds { get; init; } = 40;

    // Scenario 4: throughput.
    public int ThroughputBuilds { get; init; } = 5_000;

    // Scenario 5: mass rebuild.
    public int MassSubmissions { get; init; } = 20_000;
    public int MassClients { get; init; } = 32;
    public int MassQueue { get; init; } = 100_000;
    public int MassProbes { get; init; } = 10;
    public int MassRequests { get; init; } = 300;

    // Scenario 6: one build printing this many bytes of log.
    public long LogBytes { get; init; } = 1_000_000_000;

    public bool Recording => Record ?? !Quick;

    /// <summary>"quick", "issue sizes" (every size issue 10's) or "custom sizes".</summary>
    public string Kind => Quick ? "quick" : this with { Scenarios = Default.Scenarios, Runs = Default.Runs, Fsync = Default.Fsync, Out = null, Record = null, Keep = false } == Default
        ? "issue sizes" : "custom sizes";

    private static readonly BenchOptions Default = new();

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        var given = new HashSet<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value");
            given.Add(name);
            options = name switch
            {
                "--quick" => options with { Quick = true },
                "--scenario" or "--scenarios" => options with
                {
                    Scenarios = Value().Split(',').Select(s => int.TryParse(s, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 6
                        ? n : throw new ArgumentException("--scenario takes numbers from 1 to 6")).ToHashSet(),
                },
                "--runs" => options with { Runs = Positive(Value(), name) },
                "--fsync" => options with { Fsync = Value() switch { "on" => true, "off" => false, _ => throw new ArgumentException("--fsync on|off") } },
                "--out" => options with { Out = Value() },
                "--record" => options with { Record = true },
                "--no-record" => options with { Record = false },
                "--keep" => options with { Keep = true },
                "--raw-messages" => options with { RawMessages = Positive(Value(), name) },
                "--raw-round-trips" => options with { RawRoundTrips = Positive(Value(), name) },
                "--idle-builds" => options with { IdleBuilds = Positive(Value(), name) },
                "--idle-rate" => options with { IdleRate = double.Parse(Value(), CultureInfo.InvariantCulture) },
                "--handoff-builds" => options with { HandOffBuilds = Math.Max(2, Positive(Value(), name)) },
                "--throughput-builds" => options with { ThroughputBuilds = Positive(Value(), name) },
                "--mass-submissions" => options with { MassSubmissions = Positive(Value(), name) },
                "--mass-clients" => options with { MassClients = Positive(Value(), name) },
                "--mass-queue" => options with { MassQueue = Positive(Value(), name) },
                "--mass-probes" => options with { MassProbes = Positive(Value(), name) },
                "--mass-requests" => options with { MassRequests = Positive(Value(), name) },
                "--log-bytes" => options with { LogBytes = Positive(Value(), name) },
                "-h" or "--help" => throw new ArgumentException("usage"),
                _ => throw new ArgumentException($"unknown option {name}"),
            };
        }
        if (options.Quick)
        {
            // Each size the command line did not give, shrunk: the whole run in about a minute and a half.
            options = options with
            {
                Runs = given.Contains("--runs") ? options.Runs : 1,
                RawMessages = given.Contains("--raw-messages") ? options.RawMessages : 2_000,
                RawRoundTrips = given.Contains("--raw-round-trips") ? options.RawRoundTrips : 200,
                IdleBuilds = given.Contains("--idle-builds") ? options.IdleBuilds : 8,
                IdleRate = given.Contains("--idle-rate") ? options.IdleRate : 4,
                HandOffBuilds = given.Contains("--handoff-builds") ? options.HandOffBuilds : 6,
                ThroughputBuilds = given.Contains("--throughput-builds") ? options.ThroughputBuilds : 60,
                MassSubmissions = given.Contains("--mass-submissions") ? options.MassSubmissions : 200,
                MassClients = given.Contains("--mass-clients") ? options.MassClients : 8,
                MassQueue = given.Contains("--mass-queue") ? options.MassQueue : 300,
                MassProbes = given.Contains("--mass-probes") ? options.MassProbes : 3,
                MassRequests = given.Contains("--mass-requests") ? options.MassRequests : 30,
                LogBytes = given.Contains("--log-bytes") ? options.LogBytes : 5_000_000,
            };
        }
        if (options.IdleRate is <= 0 or > 1000)
        {
            throw new ArgumentException("--idle-rate must be between 0 and 1000 builds per second");
        }
        if (options.MassQueue < options.MassSubmissions)
        {
            options = options with { MassQueue = options.MassSubmissions };
        }
        if (options.MassQueue > 100_000)
        {
            throw new ArgumentException("--mass-queue is at most 100000 (the largest maxQueueSize Settings accepts)");
        }
        return options;
    }

    private static int Positive(string text, string name) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"{name} needs a positive whole number");
}
