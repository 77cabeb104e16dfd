namespace BuildFarm.Dispatch.Bench;

/// <summary>Percentiles (nearest rank) of a set of durations in milliseconds.</summary>
internal sealed record Distribution(int Count, double P50, double P95, double P99, double Max, double Mean)
{
    public static Distribution? Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return null;
        }
        double At(double p) => sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new Distribution(sorted.Length, At(50), At(95), At(99), sorted[^1], sorted.Average());
    }
}
