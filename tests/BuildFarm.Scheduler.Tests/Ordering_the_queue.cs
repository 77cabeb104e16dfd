using BuildFarm.Domain;
using BuildFarm.Scheduler.Dispatch;

namespace BuildFarm.Scheduler.Tests;

public sealed class Ordering_the_queue
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Aging = TimeSpan.FromMinutes(15);
    private static int counter;

    private static QueuedBuild Build(string who, BuildPriority priority, int minutesAgo, string? name = null) => new(
        Guid.Parse($"00000000-0000-0000-0000-{Interlocked.Increment(ref counter):000000000000}"),
        priority, who, Now - TimeSpan.FromMinutes(minutesAgo) - TimeSpan.FromSeconds(counter % 7 / 10.0),
        "x86_64", name ?? "rpmbuild", null, "https://example.org/r.git", null);

    private static List<string> Order(params QueuedBuild[] builds) =>
        [.. QueueOrder.Order(builds, Now, Aging).Select(b => $"{b.SubmittedBy}:{b.Priority}".ToLowerInvariant())];

    [Fact]
    public void Urgent_goes_before_high_before_normal_before_low()
    {
        var order = Order(
            Build("a", BuildPriority.Low, 1), Build("b", BuildPriority.Normal, 2),
            Build("c", BuildPriority.Urgent, 0), Build("d", BuildPriority.High, 3));

        Assert.Equal(["c:urgent", "d:high", "b:normal", "a:low"], order);
    }

    [Fact]
    public void Within_a_priority_the_first_come_is_first_served()
    {
        var first = Build("a", BuildPriority.Normal, 5);
        var second = Build("b", BuildPriority.Normal, 3);
        var third = Build("c", BuildPriority.Normal, 1);

        Assert.Equal([first, second, third], QueueOrder.Order([third, first, second], Now, Aging));
    }

    [Fact]
    public void One_submitters_many_builds_do_not_stand_before_anothers_first()
    {
        // All within one aging step (15 min), so waiting raises none of them.
        var alice = Enumerable.Range(0, 500)
            .Select(i => Build("alice", BuildPriority.Normal, 0) with { SubmittedAt = Now - TimeSpan.FromSeconds(20 + i) }).ToList();
        var bob = Build("bob", BuildPriority.Normal, 0) with { SubmittedAt = Now - TimeSpan.FromSeconds(1) };

        var order = QueueOrder.Order([.. alice, bob], Now, Aging);

        Assert.Equal(1, order.ToList().IndexOf(bob));
        Assert.Equal(alice.MaxBy(b => Now - b.SubmittedAt), order[0]);
    }

    [Fact]
    public void Submitters_take_turns_within_a_priority()
    {
        var a1 = Build("alice", BuildPriority.Normal, 10);
        var a2 = Build("alice", BuildPriority.Normal, 9);
        var a3 = Build("alice", BuildPriority.Normal, 8);
        var b1 = Build("bob", BuildPriority.Normal, 5);
        var b2 = Build("bob", BuildPriority.Normal, 4);

        Assert.Equal([a1, b1, a2, b2, a3], QueueOrder.Order([a3, b2, a2, b1, a1], Now, Aging));
    }

    [Fact]
    public void Waiting_raises_a_low_build_so_it_never_starves()
    {
        var oldLow = Build("a", BuildPriority.Low, 46);
        var newUrgent = Build("b", BuildPriority.Urgent, 0);
        var newHigh = Build("c", BuildPriority.High, 0);

        Assert.Equal(BuildPriority.Urgent, QueueOrder.EffectivePriority(oldLow, Now, Aging));
        Assert.Equal(BuildPriority.High, QueueOrder.EffectivePriority(oldLow with { SubmittedAt = Now - TimeSpan.FromMinutes(31) }, Now, Aging));
        Assert.Equal([oldLow, newUrgent, newHigh], QueueOrder.Order([newHigh, newUrgent, oldLow], Now, Aging));
    }
}
