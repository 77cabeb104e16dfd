using System.Net;
using System.Net.Http.Json;
using BuildFarm.ServiceDefaults.Auth;

namespace BuildFarm.EndToEnd.Tests;

/// <summary>Who may do what on the Submission API, and what it refuses before reading further.</summary>
public sealed class Guarding_the_http_door(Farm farm) : IClassFixture<Farm>
{
    public static TheoryData<string, string, string?, HttpStatusCode> Matrix()
    {
        var unknown = Guid.NewGuid();
        var data = new TheoryData<string, string, string?, HttpStatusCode>();
        void Row(string method, string path, HttpStatusCode none, HttpStatusCode viewer, HttpStatusCode submitter, HttpStatusCode admin)
        {
            data.Add(method, path, null, none);
            data.Add(method, path, FarmRoles.Viewer, viewer);
            data.Add(method, path, FarmRoles.Submitter, submitter);
            data.Add(method, path, FarmRoles.Admin, admin);
        }
        const HttpStatusCode ok = HttpStatusCode.OK, no = HttpStatusCode.Unauthorized, forbidden = HttpStatusCode.Forbidden,
            bad = HttpStatusCode.BadRequest, missing = HttpStatusCode.NotFound;
        Row("GET", "/api/v1/builds", no, ok, ok, ok);
        Row("POST", "/api/v1/builds", no, forbidden, bad, bad);
        Row("GET", $"/api/v1/builds/{unknown}", no, missing, missing, missing);
        Row("GET", $"/api/v1/builds/{unknown}/status", no, missing, missing, missing);
        Row("GET", "/api/v1/builds/queue/status", no, ok, ok, ok);
        Row("GET", $"/api/v1/builds/{unknown}/logs", no, missing, missing, missing);
        Row("GET", $"/api/v1/builds/{unknown}/artifacts", no, missing, missing, missing);
        Row("PUT", $"/api/v1/builds/{unknown}/cancel", no, forbidden, missing, missing);
        Row("GET", "/api/v1/servers", no, ok, ok, ok);
        Row("GET", "/api/v1/projects", no, ok, ok, ok);
        Row("POST", "/api/v1/projects", no, forbidden, bad, bad);
        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Each_role_gets_what_it_may(string method, string path, string? role, HttpStatusCode expected)
    {
        using var http = farm.Client(farm.Submission, role ?? "nobody", role);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT")
        {
            request.Content = JsonContent.Create(new { });
        }

        var response = await http.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
        if ((int)expected >= 400)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task A_body_over_the_size_limit_is_refused_with_problem_details()
    {
        var huge = new string('a', 100_000);

        var response = await farm.Http.PostAsJsonAsync("/api/v1/builds", new { sourceRepository = huge });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Strings_over_their_limits_and_urls_with_credentials_are_refused_naming_the_field()
    {
        var response = await farm.Http.PostAsJsonAsync("/api/v1/builds", new
        {
            sourceRepository = "https://user:secret@example.org/repo.git", branch = new string('b', 300),
            commitHash = "0123456789abcdef0123456789abcdef01234567", targetArchitecture = "x86_64", toolchain = "rpmbuild",
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("sourceRepository", out _));
        Assert.True(errors.TryGetProperty("branch", out _));
    }
}
