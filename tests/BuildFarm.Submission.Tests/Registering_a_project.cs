using BuildFarm.ServiceDefaults.Auth;
using BuildFarm.Submission.Projects;
using Microsoft.AspNetCore.Http;

namespace BuildFarm.Submission.Tests;

[Collection(SubmissionAppCollection.Name)]
public sealed class Registering_a_project(SubmissionApp app) : IDisposable
{
    private readonly BareRepository _repository = new();

    [Fact]
    public async Task Needs_a_token()
    {
        using var client = app.Client(null);

        using var response = await client.PostAsJsonAsync("/api/v1/projects", SubmissionApp.ProjectBody(_repository.Url));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var list = await client.GetAsync("/api/v1/projects");
        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
    }

    [Fact]
    public async Task Is_refused_to_a_viewer()
    {
        using var client = app.Client(FarmRoles.Viewer);

        using var response = await client.PostAsJsonAsync("/api/v1/projects", SubmissionApp.ProjectBody(_repository.Url));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Stores_it_for_a_submitter_who_becomes_its_owner()
    {
        var name = $"hello-{Guid.NewGuid():N}";
        using var client = app.Client(FarmRoles.Submitter, "bob");

        using var response = await client.PostAsJsonAsync("/api/v1/projects", SubmissionApp.ProjectBody(_repository.Url, name));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<ProjectResponse>())!;
        Assert.Equal($"/api/v1/projects/{created.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal((name, _repository.Url, "main", "x86_64", "rpmbuild", "high", "auto", "bob"),
            (created.Name, created.SourceRepository, created.Branch, created.TargetArchitecture, created.Toolchain, created.Priority, created.ServerId, created.Owner));

        var read = await app.GetAsync(created.Id);
        Assert.NotNull(read);
        Assert.Equal((name, "bob", "high"), (read.Name, read.Owner, read.Priority));
        using var viewer = app.Client(FarmRoles.Viewer, "carol");
        var all = await viewer.GetFromJsonAsync<List<ProjectResponse>>("/api/v1/projects");
        Assert.Contains(all!, p => p.Id == created.Id);
    }

    [Fact]
    public async Task Names_every_invalid_field()
    {
        using var client = app.Client(FarmRoles.Submitter);

        using var response = await client.PostAsJsonAsync("/api/v1/projects", new
        {
            name = "-bad name",
            sourceRepository = "ext::sh -c touch% /tmp/pwned",
            branch = "--upload-pack=evil",
            targetArchitecture = "z80",
            toolchain = "make",
            specPath = "../outside.spec",
            priority = "whenever",
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<HttpValidationProblemDetails>())!;
        Assert.Equal(
            ["branch", "name", "priority", "sourceRepository", "specPath", "targetArchitecture", "toolchain"],
            problem.Errors.Keys.Order(StringComparer.Ordinal));
        var projects = await app.ScalarAsync<long>("SELECT count(*) FROM project WHERE name = '-bad name'");
        Assert.Equal(0, projects);
    }

    [Fact]
    public async Task Refuses_a_name_already_taken()
    {
        var name = $"taken-{Guid.NewGuid():N}";
        await app.RegisterAsync(_repository.Url, name);
        using var client = app.Client(FarmRoles.Submitter, "dave");

        using var response = await client.PostAsJsonAsync("/api/v1/projects", SubmissionApp.ProjectBody(_repository.Url, name));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Lets_only_its_owner_or_an_admin_delete_it()
    {
        var mine = await app.RegisterAsync(_repository.Url, user: "erin");
        var other = await app.RegisterAsync(_repository.Url, user: "erin");
        using var stranger = app.Client(FarmRoles.Submitter, "frank");
        using var owner = app.Client(FarmRoles.Submitter, "erin");
        using var admin = app.Client(FarmRoles.Admin, "root");
        using var viewer = app.Client(FarmRoles.Viewer, "erin");

        using var byStranger = await stranger.DeleteAsync($"/api/v1/projects/{mine.Id}");
        using var byViewer = await viewer.DeleteAsync($"/api/v1/projects/{mine.Id}");
        using var byOwner = await owner.DeleteAsync($"/api/v1/projects/{mine.Id}");
        using var byAdmin = await admin.DeleteAsync($"/api/v1/projects/{other.Id}");
        using var again = await owner.DeleteAsync($"/api/v1/projects/{mine.Id}");

        Assert.Equal(HttpStatusCode.Forbidden, byStranger.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, byOwner.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, byAdmin.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Null(await app.GetAsync(mine.Id));
        Assert.Null(await app.GetAsync(other.Id));
    }

    public void Dispose() => _repository.Dispose();
}
