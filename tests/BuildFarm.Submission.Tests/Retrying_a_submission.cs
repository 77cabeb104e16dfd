using System.Text.Json;

namespace BuildFarm.Submission.Tests;

[Collection(SubmissionAppCollection.Name)]
public sealed class Retrying_a_submission(SubmissionApp app)
{
    [Fact]
    public async Task Gets_the_original_build_even_when_the_queue_is_full()
    {
        using var client = app.Client("submitter", "retrying-user");
        var key = Guid.NewGuid().ToString();
        using var first = await client.SendAsync(Submit(key));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var accepted = await first.Content.ReadFromJsonAsync<JsonElement>();

        var before = app.Settings.Current;
        app.Settings.Apply(before with { MaxQueueSize = 1 }, app.Settings.Revision + 1);
        try
        {
            using var other = await client.SendAsync(Submit(Guid.NewGuid().ToString()));
            Assert.Equal(HttpStatusCode.TooManyRequests, other.StatusCode);

            using var retry = await client.SendAsync(Submit(key));

            Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
            var again = await retry.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(accepted.GetProperty("id").GetGuid(), again.GetProperty("id").GetGuid());
        }
        finally
        {
            app.Settings.Apply(before, app.Settings.Revision + 1);
        }
    }

    private static HttpRequestMessage Submit(string idempotencyKey) => new(HttpMethod.Post, "/api/v1/builds")
    {
        Headers = { { "Idempotency-Key", idempotencyKey } },
        Content = JsonContent.Create(new
        {
            sourceRepository = "file:///srv/git/retried.git",
            branch = "main",
            commitHash = new string('a', 40),
            targetArchitecture = "x86_64",
            toolchain = "rpmbuild",
        }),
    };
}
