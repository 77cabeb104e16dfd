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
    public async Task A_package_changed_on_disk_after_the_build_is_refused_on_download_with_a_clear_error()
    {
        var (build, _) = await BuildSampleAsync(commitHash: null);
        Assert.Equal("Completed", build.GetProperty("state").GetString());
        var source = build.GetProperty("artifacts").EnumerateArray()
            .Single(a => a.GetProperty("name").GetString()!.EndsWith(".src.rpm", StringComparison.Ordinal));
        var sha256 = source.GetProperty("sha256").GetString()!;
        var intact = await farm.Http.GetAsync(source.GetProperty("url").GetString());
        Assert.Equal(HttpStatusCode.OK, intact.StatusCode);
        Assert.Equal(sha256, intact.Headers.GetValues("X-Checksum-Sha256").Single());

        var stored = Path.Combine(farm.ArtifactStore, "sha256", sha256[..2], sha256); // the store's layout
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(stored, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        await File.AppendAllTextAsync(stored, "tampered");
        var response = await farm.Http.GetAsync(source.GetProperty("url").GetString());

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Artifact corrupted.", problem.GetProperty("title").GetString());
        Assert.Contains(sha256, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("X-Checksum-Sha256"));
    }

    [Fact]
    public async Task HEAD_builds_the_tip_of_the_branch_and_the_build_shows_the_resolved_commit()
    {
        var (build, commit) = await BuildSampleAsync(commitHash: "HEAD");

        Assert.Equal("Completed", build.GetProperty("state").GetString());
        Assert.Equal(commit, build.GetProperty("commitHash").GetString());
    }

    /// <summary>Builds the sample package (its own commit when <paramref name="commitHash"/> is null) to its end; returns the build and the commit.</summary>
    private async Task<(JsonElement Build, string Commit)> BuildSampleAsync(string? commitHash)
    {
        var (url, commit) = farm.Repo(Sample);
        var accepted = await farm.SubmitAsync(new
        {
            sourceRepository = url, branch = "main", commitHash = commitHash ?? commit, targetArchitecture = "noarch",
            toolchain = "rpmbuild", specPath = "hello-buildfarm.spec",
        });
        var build = await farm.WaitForStateAsync(accepted.GetProperty("id").GetGuid(), "Completed", "Failed", "Cancelled", "TimedOut");
        return (build, commit);
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

    [Fact]
    public async Task The_api_answers_401_without_a_token_and_403_for_a_role_that_is_not_enough()
    {
        using var anonymous = farm.Client(farm.Submission, "nobody", null);
        using var viewer = farm.Client(farm.Submission, "vera", BuildFarm.ServiceDefaults.Auth.FarmRoles.Viewer);

        var noToken = await anonymous.GetAsync("/api/v1/builds");
        var viewerReads = await viewer.GetAsync("/api/v1/builds");
        var viewerSubmits = await viewer.PostAsJsonAsync("/api/v1/builds", new { });

        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Equal("application/problem+json", noToken.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, viewerReads.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, viewerSubmits.StatusCode);
        Assert.Equal("application/problem+json", viewerSubmits.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Only_the_submitter_or_an_admin_may_cancel_a_build()
    {
        var accepted = await farm.SubmitAsync(new
        {
            sourceRepository = "https://example.invalid/never.git", branch = "main", commitHash = "0123456789abcdef0123456789abcdef01234567",
            targetArchitecture = "aarch64", toolchain = "rpmbuild",
        });
        var id = accepted.GetProperty("id").GetGuid();
        using var bob = farm.Client(farm.Submission, "bob", BuildFarm.ServiceDefaults.Auth.FarmRoles.Submitter);
        using var admin = farm.Client(farm.Submission, "root", BuildFarm.ServiceDefaults.Auth.FarmRoles.Admin);

        Assert.Equal(HttpStatusCode.Forbidden, (await bob.PostAsync($"/api/v1/builds/{id}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/api/v1/builds/{id}/cancel", null)).StatusCode);
        var build = await farm.WaitForStateAsync(id, "Cancelled");
        Assert.Equal("cancelled by root", build.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_build_no_server_can_take_says_why_it_waits_and_the_queue_shows_it()
    {
        var accepted = await farm.SubmitAsync(new
        {
            sourceRepository = "https://example.invalid/arm.git", branch = "main", commitHash = "0123456789abcdef0123456789abcdef01234567",
            targetArchitecture = "s390x", toolchain = "rpmbuild", priority = "low",
        });
        var id = accepted.GetProperty("id").GetGuid();

        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonElement status;
        do
        {
            status = await farm.Http.GetFromJsonAsync<JsonElement>($"/api/v1/builds/{id}/status");
        }
        while (status.GetProperty("whyWaiting").GetString()!.StartsWith("submitted", StringComparison.Ordinal) && DateTime.UtcNow < deadline);
        var queue = await farm.Http.GetFromJsonAsync<JsonElement>("/api/v1/builds/queue/status");

        Assert.Equal("Queued", status.GetProperty("state").GetString());
        Assert.Equal("no online server has architecture s390x", status.GetProperty("whyWaiting").GetString());
        Assert.Equal(1, status.GetProperty("queuePosition").GetInt32());
        Assert.True(queue.GetProperty("queuedByArchitecture").GetProperty("s390x").GetInt32() >= 1);
        Assert.Contains(queue.GetProperty("estimatedWait").EnumerateArray(), w => w.GetProperty("architecture").GetString() == "x86_64");
        using var admin = farm.Client(farm.Submission, "root", BuildFarm.ServiceDefaults.Auth.FarmRoles.Admin);
        await admin.PostAsync($"/api/v1/builds/{id}/cancel", null);
    }

    [Fact]
    public async Task A_retried_submission_with_the_same_idempotency_key_returns_the_same_build()
    {
        var (url, commit) = farm.Repo(Sample);
        var body = new { sourceRepository = url, branch = "main", commitHash = commit, targetArchitecture = "noarch", toolchain = "rpmbuild" };
        var key = Guid.NewGuid().ToString();

        using var first = new HttpRequestMessage(HttpMethod.Post, "/api/v1/builds") { Content = JsonContent.Create(body) };
        first.Headers.Add("Idempotency-Key", key);
        using var second = new HttpRequestMessage(HttpMethod.Post, "/api/v1/builds") { Content = JsonContent.Create(body) };
        second.Headers.Add("Idempotency-Key", key);
        var a = await farm.Http.SendAsync(first);
        var b = await farm.Http.SendAsync(second);

        Assert.Equal(HttpStatusCode.Accepted, a.StatusCode);
        Assert.Equal(HttpStatusCode.OK, b.StatusCode);
        var idA = (await a.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var idB = (await b.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.Equal(idA, idB);
        await farm.WaitForStateAsync(idA, "Completed");
        var page = await farm.Http.GetFromJsonAsync<JsonElement>($"/api/v1/builds?repository={Uri.EscapeDataString(url)}");
        Assert.Single(page.GetProperty("builds").EnumerateArray());
    }

    [Fact]
    public async Task Listing_builds_pages_newest_first_with_a_cursor()
    {
        var (url, commit) = farm.Repo(Sample);
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await farm.SubmitAsync(new { sourceRepository = url, branch = "main", commitHash = commit, targetArchitecture = "noarch", toolchain = "rpmbuild" }))
                .GetProperty("id").GetGuid());
        }

        var first = await farm.Http.GetFromJsonAsync<JsonElement>($"/api/v1/builds?repository={Uri.EscapeDataString(url)}&limit=2");
        var next = first.GetProperty("next").GetString();
        var second = await farm.Http.GetFromJsonAsync<JsonElement>($"/api/v1/builds?repository={Uri.EscapeDataString(url)}&limit=2&cursor={next}");

        var listed = first.GetProperty("builds").EnumerateArray().Concat(second.GetProperty("builds").EnumerateArray())
            .Select(b => b.GetProperty("id").GetGuid()).ToList();
        Assert.Equal(Enumerable.Reverse(ids), listed);
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next").ValueKind);
        foreach (var id in ids)
        {
            await farm.WaitForStateAsync(id, "Completed", "Failed");
        }
    }

    [Fact]
    public async Task The_build_servers_are_listed_with_capacity_and_use()
    {
        var servers = await farm.Http.GetFromJsonAsync<JsonElement>("/api/v1/servers");

        var worker = servers.EnumerateArray().Single(s => s.GetProperty("id").GetString() == farm.ServerId);
        Assert.Equal("Online", worker.GetProperty("status").GetString());
        Assert.Contains("rpmbuild", worker.GetProperty("toolchains").EnumerateArray().Select(t => t.GetString()));
        Assert.Contains("mock:fedora-40-x86_64", worker.GetProperty("toolchains").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(4, worker.GetProperty("maxConcurrentBuilds").GetInt32());
    }

    [Fact]
    public async Task The_openapi_document_describes_every_endpoint_and_its_problem_responses()
    {
        using var anonymous = farm.Client(farm.Submission, "nobody", null);

        var document = await anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var paths = document.GetProperty("paths");
        foreach (var path in new[]
        {
            "/api/v1/builds", "/api/v1/builds/{id}", "/api/v1/builds/{id}/status", "/api/v1/builds/queue/status",
            "/api/v1/builds/{id}/logs", "/api/v1/builds/{id}/logs/follow", "/api/v1/builds/{id}/cancel",
            "/api/v1/builds/{id}/artifacts", "/api/v1/builds/{id}/artifacts/{name}", "/api/v1/servers",
        })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing from the OpenAPI document");
        }
        var post = paths.GetProperty("/api/v1/builds").GetProperty("post").GetProperty("responses");
        Assert.True(post.TryGetProperty("400", out _));
        Assert.True(post.TryGetProperty("429", out _));
        Assert.True(paths.GetProperty("/api/v1/builds/{id}").GetProperty("get").GetProperty("responses").TryGetProperty("404", out _));
        var bearer = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.Equal("bearer", bearer.GetProperty("scheme").GetString());
        Assert.True(document.GetProperty("security")[0].TryGetProperty("Bearer", out _));
    }

    [Fact]
    public async Task The_status_page_shows_the_queue_and_the_servers_without_a_token()
    {
        using var anonymous = farm.Client(farm.Submission, "nobody", null);

        var response = await anonymous.GetAsync("/status");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains(farm.ServerId, html, StringComparison.Ordinal);
        Assert.Contains("class=\"Online\"", html, StringComparison.Ordinal);
        Assert.Contains("queued", html, StringComparison.Ordinal);
        Assert.DoesNotContain("The Scheduler did not answer", html, StringComparison.Ordinal);
        var host = $"<span class=\"muted\">{System.Net.WebUtility.HtmlEncode(Environment.MachineName)}</span>";
        Assert.DoesNotContain(host, html, StringComparison.Ordinal);

        using var viewer = farm.Client(farm.Submission, "vera", BuildFarm.ServiceDefaults.Auth.FarmRoles.Viewer);
        Assert.Contains(host, await viewer.GetStringAsync("/status"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_worker_process_holds_no_signing_key_and_no_database_connection_string()
    {
        var environment = await File.ReadAllTextAsync($"/proc/{farm.Worker.Pid}/environ");

        Assert.DoesNotContain("Auth__SigningKey", environment, StringComparison.Ordinal);
        Assert.DoesNotContain(farm.SigningKey, environment, StringComparison.Ordinal);
        Assert.DoesNotContain("ConnectionStrings__Postgres", environment, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings__RabbitMq", environment, StringComparison.Ordinal);
    }
}
