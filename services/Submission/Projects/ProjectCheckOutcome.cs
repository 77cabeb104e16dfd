using System.Text.Json.Serialization;

namespace BuildFarm.Submission.Projects;

/// <summary>The outcome of a project check.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ProjectCheckOutcome>))]
public enum ProjectCheckOutcome
{
    /// <summary>The project does not exist (any more).</summary>
    NotFound,
    /// <summary>The branch head is the commit the last build was submitted for.</summary>
    Unchanged,
    /// <summary>The branch moved: a build of its head was submitted.</summary>
    Submitted,
    /// <summary>The repository or branch could not be read, or the project's builds are no longer valid; see the error.</summary>
    Failed,
}
