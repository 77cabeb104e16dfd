using BuildFarm.Domain;
using BuildFarm.Scheduler.Dispatch;
using BuildFarm.Testing;

namespace BuildFarm.Scheduler.Tests;

/// <summary>
/// Status questions on a long queue are answered from a read of the queue at most StatusViewMaxAge old, read again in
/// the background; a short queue is read for every question.
/// </summary>
public sealed class Answering_status_on_a_long_queue
{
    [Fact]
    public async Task A_long_queue_is_read_at_most_once_per_max_age_and_a_short_one_for_every_question()
    {
        await using var farm = await SchedulerDatabase.CreateAsync(limit: 1, options: o =>
        {
            o.StatusViewExactBelow = 10;
            o.StatusViewMaxAge = TimeSpan.FromSeconds(1);
        });
        await farm.AddServerAsync("s1", "x86_64", ["rpmbuild"], max: 1);
        await farm.AddBuildingAsync("s1", "u9");
        var ours = Queued("alice", SchedulerDatabase.Now.AddMinutes(-1));
        await farm.AddQueuedAsync([ours, .. Enumerable.Range(0, 5).Select(i => Queued("bob", SchedulerDatabase.Now.AddSeconds(-30 + i)))]);

        // Six queued: below 10, every question reads the queue.
        var first = await farm.Status.BuildAsync(ours.BuildId, CancellationToken.None);
        await farm.AddQueuedAsync([Queued("carol", SchedulerDatabase.Now.AddMinutes(-2))]);
        var afterCarol = await farm.Status.BuildAsync(ours.BuildId, CancellationToken.None);
        Assert.Equal((1, 2), (first.QueuePosition, afterCarol.QueuePosition));

        // Ten queued and more: the view read for this question serves the next ones within a second.
        await farm.AddQueuedAsync([.. Enumerable.Range(0, 4).Select(i => Queued("dave", SchedulerDatabase.Now.AddSeconds(-10 + i)))]);
        var read = await farm.Status.BuildAsync(ours.BuildId, CancellationToken.None);
        await farm.AddQueuedAsync([Queued("erin", SchedulerDatabase.Now.AddMinutes(-3))]);
        farm.Clock.Advance(TimeSpan.FromMilliseconds(900));
        var cached = await farm.Status.BuildAsync(ours.BuildId, CancellationToken.None);
        var queue = await farm.Status.QueueAsync(CancellationToken.None);
        Assert.Equal((2, 2, read.At), (read.QueuePosition, cached.QueuePosition, cached.At));
        Assert.Equal(11, queue.Queued);

        // Older than a second: the first question gets the last view while the queue is read again; later ones the new read.
        farm.Clock.Advance(TimeSpan.FromMilliseconds(200));
        var stale = await farm.Status.BuildAsync(ours.BuildId, CancellationToken.None);
        await Eventually.HoldsAsync(async () => (await farm.Status.BuildAsync(ours.BuildId, CancellationToken.None)).QueuePosition == 3,
            "erin's build counts once the queue was read again");
        Assert.Equal((2, read.At), (stale.QueuePosition, stale.At));
        Assert.Equal(12, (await farm.Status.QueueAsync(CancellationToken.None)).Queued);
    }

    private static QueuedBuild Queued(string who, DateTimeOffset at) =>
        new(Guid.NewGuid(), BuildPriority.Normal, who, at, "x86_64", "rpmbuild", null, "https://example.org/" + who + ".git", null);
}
