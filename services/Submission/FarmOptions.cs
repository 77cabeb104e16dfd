using System.ComponentModel.DataAnnotations;

namespace BuildFarm.Submission;

/// <summary>Farm-wide facts the gateway needs (section "Farm").</summary>
public sealed class FarmOptions
{
    public const string Section = "Farm";

    /// <summary>Accept file:// repositories: only on a local farm.</summary>
    public bool AllowFileRepositories { get; set; }

    /// <summary>The content-addressed artifact store the workers write into.</summary>
    [Required]
    public string ArtifactStore { get; set; } = "";
}
