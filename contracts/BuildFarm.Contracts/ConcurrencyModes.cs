namespace BuildFarm.Contracts;

/// <summary>The values of <see cref="FarmSettings.ConcurrencyMode"/>.</summary>
public static class ConcurrencyModes
{
    /// <summary>The farm-wide limit is <see cref="FarmSettings.MaxConcurrentBuilds"/>.</summary>
    public const string Fixed = "fixed";

    /// <summary>
    /// The farm-wide limit follows the build servers' measured load, within
    /// [<see cref="FarmSettings.MinConcurrentBuilds"/>, <see cref="FarmSettings.MaxConcurrentBuilds"/>].
    /// </summary>
    public const string Auto = "auto";
}
