using System.ComponentModel.DataAnnotations;

namespace BuildFarm.ServiceDefaults;

/// <summary>How a process asks the Settings service for the settings at start (section <c>SettingsBootstrap</c>).</summary>
public sealed class FarmSettingsBootstrapOptions
{
    public const string SectionName = "SettingsBootstrap";

    /// <summary>How long one request waits for the answer.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "SettingsBootstrap:Timeout must be between 0.1 s and 5 min.")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many requests before giving up (and keeping the defaults until a broadcast arrives).</summary>
    [Range(1, 100, ErrorMessage = "SettingsBootstrap:Attempts must be between 1 and 100.")]
    public int Attempts { get; set; } = 5;

    /// <summary>The pause after a failed request; it doubles after each one.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "SettingsBootstrap:RetryDelay must be between 0 and 10 min.")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(5);
}
