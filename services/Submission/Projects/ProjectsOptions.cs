using System.ComponentModel.DataAnnotations;

namespace BuildFarm.Submission.Projects;

/// <summary>How projects are checked (section "Projects"). Whether and how often comes from the farm settings.</summary>
public sealed class ProjectsOptions
{
    public const string Section = "Projects";

    /// <summary>The git executable (a name on PATH or a full path).</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Projects:GitExecutable must not be empty.")]
    public string GitExecutable { get; set; } = "git";

    /// <summary>How long one <c>git ls-remote</c> may take before it is killed and the check fails.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "Projects:GitTimeout must be between 1 s and 10 min.")]
    public TimeSpan GitTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How often the sync service looks for projects due for a check (each is checked every syncIntervalHours);
    /// also how soon a change of autoSyncProjects or syncIntervalHours takes effect.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Projects:PollInterval must be between 1 s and 1 day.")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(1);
}
