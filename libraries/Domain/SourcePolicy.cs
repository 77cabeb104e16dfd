namespace BuildFarm.Domain;

/// <summary>What sources the farm accepts. Only a local farm allows file:// repositories.</summary>
public sealed class SourcePolicy
{
    /// <summary>Accept file:// and local-path repositories (the local farm started by ./farm up).</summary>
    public bool AllowFileRepositories { get; set; }
}
