namespace BuildFarm.Domain;

/// <summary>A build's priority: URGENT before HIGH before NORMAL before LOW.</summary>
public enum BuildPriority
{
    Low = 0,
    Normal = 1,
    High = 2,
    Urgent = 3,
}

public static class BuildPriorities
{
    public const string Names = "low, normal, high or urgent";

    /// <summary>Parses low/normal/high/urgent in any case; an empty value means normal.</summary>
    public static bool TryParse(string? value, out BuildPriority priority)
    {
        priority = BuildPriority.Normal;
        if (string.IsNullOrWhiteSpace(value))
        {
            return true;
        }
        return value.Trim().ToUpperInvariant() switch
        {
            "LOW" => Set(BuildPriority.Low, out priority),
            "NORMAL" => Set(BuildPriority.Normal, out priority),
            "HIGH" => Set(BuildPriority.High, out priority),
            "URGENT" => Set(BuildPriority.Urgent, out priority),
            _ => false,
        };
    }

    /// <summary>The lower-case name used in messages and the API.</summary>
    public static string ToName(this BuildPriority priority) => priority.ToString().ToLowerInvariant();

    private static bool Set(BuildPriority value, out BuildPriority priority)
    {
        priority = value;
        return true;
    }
}
