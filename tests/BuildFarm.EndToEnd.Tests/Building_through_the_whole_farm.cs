using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;

namespace BuildFarm.EndToEnd.Tests;

public sealed class Building_through_the_whole_farm(Farm farm) : IClassFixture<Farm>
{
    private static string Sample => Path.Combine(Repository.Root, "samples", "hello-buildfarm");

    [Fact]
    public async Task The_sample_package_submitted_over_HTTP_ends_completed_with_a_real_rpm()
    {
        var (url, commit) = farm.Repo(Sample);

        var accepted = await farm.SubmitAsync(new
        {
            sourceRepository = url, branch = "main", commitHash = commit, targetArchitecture = "noarch",
            toolchain = "rpmbuild", specPath = "hello-buildfarm.spec", priority = "HIGH",
        });
        var id = accepted.GetProperty("id").GetGuid();
        Assert.Equal("Queued", accepted.GetProperty("state").GetString());

        var build = await farm.WaitForStateAsync(id, "Completed", "Failed", "Cancelled", "TimedOut");
        Assert.Equal("Completed", build.GetProperty("state").GetString());
        Assert.Equal(farm.ServerId, build.GetProperty("serverId").GetString());
        Assert.Equal("high", build.GetProperty("priority").GetString());
        Assert.Equal(commit, build.GetProperty("commitHash").GetString());
        Assert.True(build.GetProperty("startedAt").GetDateTimeOffset() <= build.GetProperty("finishedAt").GetDateTimeOffset());

        var rpm = build.GetProperty("artifacts").EnumerateArray()
            .Single(a => a.GetProperty("name").GetString()!.EndsWith(".noarch.rpm", StringComparison.Ordinal));
        Assert.StartsWith("hello-buildfarm-1.0.0-1", rpm.GetProperty("name").GetString(), StringComparison.Ordinal);
        var bytes = await farm.Http.GetByteArrayAsync(rpm.GetProperty("url").GetString());
        Assert.Equal(rpm.GetProperty("size").GetInt64(), bytes.LongLength);
        Assert.Equal(rpm.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(bytes)));
        Assert.Equal([0xED, 0xAB, 0xEE, 0xDB], bytes[..4]); // the RPM lead's magic number

        var log = await farm.Http.GetStringAsync($"/api/v1/builds/{id}/logs");
        Assert.Contains("hello-buildfarm", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_repository_that_does_not_exist_ends_failed_with_a_reason_that_says_so()
    {
        var missing = "file://" + Path.Combine(farm.Temp, "no-such-repository.git");

        var accepted = await farm.SubmitAsync(new
        {
            sourceRepository = missing, branch = "main", commitHash = "0123456789abcdef0123456789abcdef01234567",
            targetArchitecture = "noarch", toolchain = "rpmbuild",
        });

        var build = await farm.WaitForStateAsync(accepted.GetProperty("id").GetGuid(), "Completed", "Failed", "Cancelled", "TimedOut");
        Assert.Equal("Failed", build.GetProperty("state").GetString());
        var reason = build.GetProperty("reason").GetString()!;
        Assert.Contains("does not exist", reason, StringComparison.Ordinal);
        Assert.Contains("no-such-repository.git", reason, StringComparison.Ordinal);
        Assert.Equal(1, build.GetProperty("attempt").GetInt32());
    }

    [Fact]
    public async Task An_invalid_submission_gets_problem_details_naming_each_field_and_nothing_is_stored()
    {
        var response = await farm.Http.PostAsJsonAsync("/api/v1/builds", new
        {
            sourceRepository = "ext::sh -c touch% /tmp/pwned", branch = "--upload-pack=evil", commitHash = "xyz",
            targetArchitecture = "m68k", toolchain = "make", priority = "asap",
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var fields = problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "sourceRepository", "branch", "commitHash", "targetArchitecture", "toolchain", "priority" }, fields);
        await using var connection = new Npgsql.NpgsqlConnection(farm.PostgresConnectionString);
        await connection.OpenAsync();
        await using var count = new Npgsql.NpgsqlCommand(
            "SELECT (SELECT count(*) FROM build_request WHERE request->>'branch' = '--upload-pack=evil') + (SELECT count(*) FROM outbox_message WHERE body::text LIKE '%upload-pack%')", connection);
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Malformed_json_gets_problem_details()
    {
        using var content = new StringContent("{\"sourceRepository\": ", System.Text.Encoding.UTF8, "application/json");

        var response = await farm.Http.PostAsync("/api/v1/builds", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_unknown_build_is_404_problem_details()
    {
        var response = await farm.Http.GetAsync($"/api/v1/builds/{Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
