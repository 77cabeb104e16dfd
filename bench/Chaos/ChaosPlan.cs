using System.Globalization;

namespace BuildFarm.Chaos;

/// <summary>One build the run submits: its spec's knobs for the stand-in mock and when it is submitted.</summary>
internal sealed record PlannedBuild(int Number, TimeSpan SubmitAt, double Seconds, bool Fail, int Lines)
{
    public string Name => $"chaos-{Number:D4}";
    public string SpecPath => Name + ".spec";
    public bool Spam => Lines >= 1000;

    public string Spec() => string.Create(CultureInfo.InvariantCulture, $"""
        Name:           {Name}
        Version:        1
        Release:        1
        Summary:        Build {Number} of a chaos run
        License:        MIT

        #chaos seconds={Seconds:0.00} fail={(Fail ? 1 : 0)} lines={Lines}

        %description
        A stand-in package: the stand-in mock reads the #chaos line (tests/mock/mock).

        %files

        """);
}

internal enum FaultKind { Kill, Outage, Pause }

/// <summary>One fault: SIGKILL and restart a service, stop a server for a while, or SIGSTOP a Worker for a while.</summary>
internal sealed record PlannedFault(FaultKind Kind, string Target, TimeSpan GapBefore, TimeSpan Hold)
{
    public override string ToString() => Kind switch
    {
        FaultKind.Kill => $"SIGKILL {Target}, restart it",
        FaultKind.Outage => $"stop {Target} for {Hold.TotalSeconds:0} s, start it again",
        _ => $"SIGSTOP {Target} for {Hold.TotalSeconds:0} s, then SIGCONT",
    };
}

/// <summary>Everything random about a run, drawn from its seed up front, so that a seed names a run.</summary>
internal sealed class ChaosPlan
{
    public const int FarmLimit = 4;
    public const int WorkerCapacity = 2;
    public static readonly string[] Workers = ["chaos-w1", "chaos-w2", "chaos-w3"];
    public static readonly string[] Schedulers = ["scheduler-1", "scheduler-2"];
    public static readonly string[] Servers = ["rabbitmq", "redis", "postgres"];

    public required IReadOnlyList<PlannedBuild> Builds { get; init; }
    public required IReadOnlyList<PlannedFault> Faults { get; init; }
    public required TimeSpan FaultWindow { get; init; }

    public static ChaosPlan Make(ChaosOptions options)
    {
        var random = new Random(options.Seed);
        var window = TimeSpan.FromMinutes(options.Minutes);
        // Builds are submitted over the first 80 % of the fault window, at random moments.
        var submitSpan = window * 0.8;
        var times = Enumerable.Range(0, options.Builds).Select(_ => submitSpan * random.NextDouble()).Order().ToArray();
        var maxSeconds = options.Short ? 3.0 : 6.0;
        var builds = times.Select((at, i) =>
        {
            var seconds = 0.5 + (random.NextDouble() * (maxSeconds - 0.5));
            var fail = random.NextDouble() < 0.2;
            var spam = random.NextDouble() < 0.1;
            var lines = spam ? (options.Short ? 5_000 : 20_000) : random.Next(20, 200);
            return new PlannedBuild(i + 1, at, Math.Round(seconds, 2), fail, lines);
        }).ToList();

        var services = new List<string> { "submission", "settings" };
        services.AddRange(Schedulers);
        services.AddRange(Workers);
        var faults = new List<PlannedFault>();
        TimeSpan Gap(double min, double max) => TimeSpan.FromSeconds(min + (random.NextDouble() * (max - min)));
        if (options.Short)
        {
            // One kill of each service kind and one short outage, in a random order.
            var round = new List<(FaultKind, string, TimeSpan)>
            {
                (FaultKind.Kill, "submission", TimeSpan.Zero),
                (FaultKind.Kill, "settings", TimeSpan.Zero),
                (FaultKind.Kill, Schedulers[random.Next(Schedulers.Length)], TimeSpan.Zero),
                (FaultKind.Kill, Workers[random.Next(Workers.Length)], TimeSpan.Zero),
                (FaultKind.Outage, Servers[random.Next(Servers.Length)], TimeSpan.FromSeconds(15)),
            };
            Shuffle(random, round);
            faults.AddRange(round.Select(f => new PlannedFault(f.Item1, f.Item2, Gap(4, 12), f.Item3)));
        }
        else
        {
            // First round: every service killed once, each server stopped once for 30 s, one Worker paused for 60 s;
            // then more rounds of kills while the window lasts (the runner stops at the window's end, after round one).
            var round = services.Select(s => (FaultKind.Kill, s, TimeSpan.Zero)).ToList();
            round.AddRange(Servers.Select(s => (FaultKind.Outage, s, TimeSpan.FromSeconds(30))));
            round.Add((FaultKind.Pause, Workers[random.Next(Workers.Length)], TimeSpan.FromSeconds(60)));
            Shuffle(random, round);
            faults.AddRange(round.Select(f => new PlannedFault(f.Item1, f.Item2, Gap(5, 25), f.Item3)));
            for (var extra = 0; extra < 10; extra++)
            {
                var kills = services.ToList();
                Shuffle(random, kills);
                faults.AddRange(kills.Select(s => new PlannedFault(FaultKind.Kill, s, Gap(5, 25), TimeSpan.Zero)));
            }
        }
        return new ChaosPlan { Builds = builds, Faults = faults, FaultWindow = window };
    }

    /// <summary>How many faults must run whatever the window: the first round.</summary>
    public int MandatoryFaults(ChaosOptions options) => options.Short ? Faults.Count : 7 + Servers.Length + 1;

    private static void Shuffle<T>(Random random, IList<T> list)
    {
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }
}
