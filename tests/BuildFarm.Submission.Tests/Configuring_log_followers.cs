namespace BuildFarm.Submission.Tests;

public sealed class Configuring_log_followers
{
    [Theory]
    [InlineData("0")]
    [InlineData("10001")]
    public async Task Stops_the_service_at_start_naming_the_key_when_the_cap_is_out_of_bounds(string value)
    {
        var app = new SubmissionApp { Configuration = new Dictionary<string, string> { ["Logs:MaxFollowersPerUser"] = value } };
        try
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(app.InitializeAsync);

            Assert.Contains("Logs:MaxFollowersPerUser must be between 1 and 10000.", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            await app.DisposeAsync();
        }
    }
}
