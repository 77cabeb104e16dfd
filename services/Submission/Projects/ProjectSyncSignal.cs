using System.Threading.Channels;

namespace BuildFarm.Submission.Projects;

/// <summary>Asks the <see cref="ProjectSyncService"/> to check a project soon (one just registered).</summary>
public sealed class ProjectSyncSignal
{
    private readonly Channel<Guid> _requests = Channel.CreateUnbounded<Guid>(new UnboundedChannelOptions { SingleReader = true });

    public void Request(Guid projectId) => _requests.Writer.TryWrite(projectId);

    internal ChannelReader<Guid> Reader => _requests.Reader;
}
