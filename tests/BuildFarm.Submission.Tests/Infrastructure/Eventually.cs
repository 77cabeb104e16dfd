namespace BuildFarm.Submission.Tests.Infrastructure;

public static class Eventually
{
    public static TimeSpan Patience { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Waits (up to 30 s) until the condition holds; fails the test naming <paramref name="what"/> otherwise.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }
            await Task.Delay(25);
        }
    }
}
