using System.Globalization;

namespace BuildFarm.Chaos;

/// <summary>The command line of <c>./farm chaos [--builds N] [--minutes M] [--seed S] [--short] [--keep] [--out FILE]</c>.</summary>
internal sealed record ChaosOptions
{
    public int Builds { get; init; } = 400;

    /// <summary>How long faults go on (builds are submitted over most of it).</summary>
    public double Minutes { get; init; } = 12;

    public int Seed { get; init; } = Environment.TickCount & 0x7fffffff;

    /// <summary>The short version: ~30 builds, one kill of each service kind, one short outage, no pause.</summary>
    public bool Short { get; init; }

    /// <summary>Keep the run's temporary folder (servers' data, workspaces, ledger) for a post-mortem.</summary>
    public bool Keep { get; init; }

    /// <summary>Where the JSON report also goes (the long run: bench/results/chaos.json).</summary>
    public string? Out { get; init; }

    /// <summary>How long the farm may take to bring every accepted build to an end once faults and submissions stopped.</summary>
    public TimeSpan SettleTimeout => Short ? TimeSpan.FromMinutes(3) : TimeSpan.FromMinutes(6);

    /// <summary>After the last build ended: time for clean-up (workspaces, leases, log stragglers) before the checks.</summary>
    public TimeSpan QuietPeriod => TimeSpan.FromSeconds(Short ? 10 : 20);

    public static ChaosOptions Parse(string[] args)
    {
        var options = new ChaosOptions();
        bool buildsGiven = false, minutesGiven = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--builds":
                    options = options with { Builds = Positive(Value(), "--builds") };
                    buildsGiven = true;
                    break;
                case "--minutes":
                    options = options with { Minutes = double.Parse(Value(), CultureInfo.InvariantCulture) };
                    minutesGiven = true;
                    break;
                case "--seed":
                    options = options with { Seed = int.Parse(Value(), CultureInfo.InvariantCulture) };
                    break;
                case "--short":
                    options = options with { Short = true };
                    break;
                case "--keep":
                    options = options with { Keep = true };
                    break;
                case "--out":
                    options = options with { Out = Value() };
                    break;
                case "-h" or "--help":
                    throw new ArgumentException("usage");
                default:
                    throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        if (options.Short)
        {
            options = options with { Builds = buildsGiven ? options.Builds : 30, Minutes = minutesGiven ? options.Minutes : 1.5 };
        }
        if (options.Minutes is < 0.5 or > 24 * 60)
        {
            throw new ArgumentException("--minutes must be between 0.5 and 1440");
        }
        return options;
    }

    private static int Positive(string text, string name) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"{name} needs a positive whole number");
}
