using System.Text.Json.Serialization;

namespace BuildFarm.Submission.Projects;

/// <summary>Whether a sync pass ran.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ProjectSyncPassStatus>))]
public enum ProjectSyncPassStatus
{
    /// <summary>The pass checked every project due.</summary>
    Ran,
    /// <summary>autoSyncProjects is off in the farm settings.</summary>
    Disabled,
    /// <summary>Another Submission instance holds the pass lock and is checking the projects.</summary>
    Busy,
}
