using BuildFarm.Submission.Tests.Infrastructure;
using BuildFarm.Submission.Cleanup;
using Microsoft.Extensions.DependencyInjection;

namespace BuildFarm.Submission.Tests;

[Collection(SubmissionAppCollection.Name)]
public sealed class Cleaning_up_in_the_running_service(SubmissionApp app)
{
    [Fact]
    public async Task Cleans_builds_older_than_the_setting_every_hour()
    {
        var old = await SchedulerBuilds.AddAsync(app.Database, "Completed", b => b.FinishedAt = app.Time.GetUtcNow() - TimeSpan.FromDays(31));
        var young = await SchedulerBuilds.AddAsync(app.Database, "Completed", b => b.FinishedAt = app.Time.GetUtcNow() - TimeSpan.FromDays(1));
        await using (var command = app.Database.CreateCommand("""
            INSERT INTO build_log (build_id, attempt, stream, sequence, byte_offset, text, at) VALUES ($1, 1, 'stdout', 0, 0, 'old', now())
            """))
        {
            command.Parameters.AddWithValue(old);
            await command.ExecuteNonQueryAsync();
        }
        var cleanups = app.Services.GetRequiredService<BuildCleanupStore>();

        app.Time.Advance(TimeSpan.FromHours(1));

        await Eventually.HoldsAsync(async () => await cleanups.CleanedAtAsync(old, CancellationToken.None) is not null, "the old build is cleaned");
        Assert.Null(await cleanups.CleanedAtAsync(young, CancellationToken.None));
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM build_log WHERE build_id = $1", old));
    }
}
