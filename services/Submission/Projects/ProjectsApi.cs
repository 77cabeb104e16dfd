using System.Security.Claims;
using BuildFarm.ServiceDefaults.Auth;
using BuildFarm.Submission.Infrastructure;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BuildFarm.Submission.Projects;

/// <summary>
/// The projects API under /api/v1/projects: any farm role reads, submitters and admins register, sync and delete
/// (a submitter deletes only its own projects).
/// </summary>
internal static class ProjectsApi
{
    public static RouteGroupBuilder Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/projects").WithTags("Projects").RequireAuthorization(FarmPolicies.Viewer)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapGet("/", ListProjects)
            .WithName("ListProjects").WithSummary("Lists the registered projects, by name.");
        api.MapGet("/{id:guid}", GetProject)
            .WithName("GetProject").WithSummary("A project, with what its last check found.");
        api.MapPost("/", RegisterProject)
            .RequireAuthorization(FarmPolicies.Submitter)
            .AddEndpointFilter<ValidationFilter<RegisterProjectRequest>>()
            .ProducesValidationProblem()
            .WithName("RegisterProject")
            .WithSummary("Registers a repository branch whose head is built each time it moves; the first check runs at once.");
        api.MapDelete("/{id:guid}", DeleteProject)
            .RequireAuthorization(FarmPolicies.Submitter)
            .WithName("DeleteProject").WithSummary("Removes a project (its owner or an admin); its builds are kept.");
        api.MapPost("/{id:guid}/sync", SyncProject)
            .RequireAuthorization(FarmPolicies.Submitter)
            .WithName("SyncProject").WithSummary("Checks the project's branch now and submits a build if it moved.");
        return api;
    }

    public static async Task<Ok<IReadOnlyList<ProjectResponse>>> ListProjects(ProjectStore store, CancellationToken ct) =>
        TypedResults.Ok<IReadOnlyList<ProjectResponse>>([.. (await store.ListAsync(ct)).Select(ProjectResponse.From)]);

    public static async Task<Results<Ok<ProjectResponse>, ProblemHttpResult>> GetProject(Guid id, ProjectStore store, CancellationToken ct) =>
        await store.FindAsync(id, ct) is { } project
            ? TypedResults.Ok(ProjectResponse.From(project))
            : NotFound(id);

    public static async Task<Results<Created<ProjectResponse>, ProblemHttpResult>> RegisterProject(
        RegisterProjectRequest body,
        ProjectStore store,
        ProjectSyncSignal signal,
        TimeProvider time,
        HttpContext http,
        CancellationToken ct)
    {
        var project = body.ToProject(NewId.NextGuid(), UserOf(http.User), time.GetUtcNow());
        if (!await store.AddAsync(project, ct))
        {
            return TypedResults.Problem($"There is already a project named '{project.Name}'.",
                statusCode: StatusCodes.Status409Conflict, title: "The project name is taken.");
        }
        signal.Request(project.Id);
        var response = ProjectResponse.From(project);
        return TypedResults.Created(response.Links.Self, response);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteProject(Guid id, ProjectStore store, HttpContext http, CancellationToken ct)
    {
        var project = await store.FindAsync(id, ct);
        if (project is null)
        {
            return NotFound(id);
        }
        var user = UserOf(http.User);
        if (!http.User.IsInRole(FarmRoles.Admin) && !string.Equals(project.Owner, user, StringComparison.Ordinal))
        {
            return TypedResults.Problem(
                $"Project '{project.Name}' belongs to {project.Owner}; only its owner or an admin may delete it.",
                statusCode: StatusCodes.Status403Forbidden, title: "Permission denied.");
        }
        return await store.DeleteAsync(id, ct) ? TypedResults.NoContent() : NotFound(id);
    }

    public static async Task<Results<Ok<ProjectSyncResponse>, ProblemHttpResult>> SyncProject(
        Guid id, ProjectSyncer syncer, ProjectStore store, CancellationToken ct)
    {
        var result = await syncer.CheckAsync(id, ct);
        if (result.Outcome == ProjectCheckOutcome.NotFound || await store.FindAsync(id, ct) is not { } project)
        {
            return NotFound(id);
        }
        return TypedResults.Ok(new ProjectSyncResponse(
            result.Outcome, result.Commit, result.BuildId, result.NewBuild, result.Error, ProjectResponse.From(project)));
    }

    private static string UserOf(ClaimsPrincipal user) =>
        user.FindFirst(FarmAuthenticationExtensions.NameClaimType)?.Value ?? user.Identity?.Name ?? "anonymous";

    private static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem($"There is no project {id}.", statusCode: StatusCodes.Status404NotFound, title: "No such project.");
}
