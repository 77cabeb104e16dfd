using BuildFarm.Contracts;
using BuildFarm.Domain.Artifacts;
using BuildFarm.Persistence.Outbox;
using BuildFarm.Submission.Builds;
using BuildFarm.Submission.Infrastructure;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace BuildFarm.Submission.Apis;

/// <summary>The builds API under /api/v1/builds.</summary>
internal static class BuildsApi
{
    public static RouteGroupBuilder MapBuildsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/builds").WithTags("Builds");
        api.MapPost("/", SubmitBuild)
            .AddEndpointFilter<ValidationFilter<SubmitBuildRequest>>()
            .ProducesValidationProblem();
        api.MapGet("/{id:guid}", GetBuild);
        api.MapGet("/{id:guid}/logs", GetLogs);
        api.MapGet("/{id:guid}/artifacts", ListArtifacts);
        api.MapGet("/{id:guid}/artifacts/{name}", DownloadArtifact);
        api.MapMethods("/{id:guid}/cancel", ["PUT", "POST"], CancelBuild);
        api.MapStatusApi();
        return api;
    }

    public static async Task<Results<Accepted<SubmitBuildResponse>, Ok<SubmitBuildResponse>, ValidationProblem>> SubmitBuild(
        SubmitBuildRequest body,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        BuildStore store,
        PostgresOutbox outbox,
        TimeProvider time,
        HttpContext http,
        CancellationToken ct)
    {
        if (idempotencyKey is { Length: > 200 })
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["Idempotency-Key"] = ["must be at most 200 characters"] });
        }
        var submittedBy = http.User.Identity?.Name ?? "anonymous";
        var request = body.ToMessage(NewId.NextGuid(), submittedBy, time.GetUtcNow());
        var (buildId, created) = await store.SubmitAsync(outbox, request, idempotencyKey, ct);
        var response = new SubmitBuildResponse(buildId, "Queued", BuildLinks.For(buildId));
        return created
            ? TypedResults.Accepted(response.Links.Self, response)
            : TypedResults.Ok(response);
    }

    public static async Task<Results<Ok<BuildResponse>, ProblemHttpResult>> GetBuild(Guid id, BuildStore store, CancellationToken ct) =>
        await store.FindAsync(id, ct) is { } build
            ? TypedResults.Ok(BuildResponse.From(build))
            : NotFound(id);

    public static async Task<Results<Ok<IReadOnlyList<ArtifactResponse>>, ProblemHttpResult>> ListArtifacts(Guid id, BuildStore store, CancellationToken ct) =>
        await store.FindAsync(id, ct) is { } build
            ? TypedResults.Ok<IReadOnlyList<ArtifactResponse>>([.. build.Artifacts.Select(a => ArtifactResponse.From(id, a))])
            : NotFound(id);

    public static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> DownloadArtifact(
        Guid id, string name, BuildStore store, ArtifactStore artifacts, HttpContext http, CancellationToken ct)
    {
        var build = await store.FindAsync(id, ct);
        var artifact = build?.Artifacts.FirstOrDefault(a => a.Name == name);
        if (build is null || artifact is null || !artifacts.TryOpen(artifact.Sha256, out var stream))
        {
            return Problem(StatusCodes.Status404NotFound, "No such artifact.",
                build is null ? $"There is no build {id}." : $"Build {id} has no artifact named '{name}'.");
        }
        http.Response.Headers["Digest"] = $"sha-256={Convert.ToBase64String(Convert.FromHexString(artifact.Sha256))}";
        http.Response.Headers["X-Checksum-Sha256"] = artifact.Sha256;
        return TypedResults.File(stream, ContentType(artifact.Name), artifact.Name, enableRangeProcessing: true);
    }

    public static async Task<Results<Ok<string>, ProblemHttpResult>> GetLogs(
        Guid id, int? attempt, string? stream, BuildStore store, CancellationToken ct)
    {
        if (await store.FindAsync(id, ct) is null)
        {
            return NotFound(id);
        }
        var text = new System.Text.StringBuilder();
        await foreach (var chunk in store.ReadLogAsync(id, attempt, stream, 0, ct))
        {
            text.Append(chunk.Text);
        }
        return TypedResults.Ok(text.ToString());
    }

    public static async Task<Results<Accepted, ProblemHttpResult>> CancelBuild(
        Guid id, BuildStore store, IPublishEndpoint bus, HttpContext http, CancellationToken ct)
    {
        var build = await store.FindAsync(id, ct);
        if (build is null)
        {
            return NotFound(id);
        }
        if (build.IsFinished)
        {
            return Problem(StatusCodes.Status409Conflict, "The build has already ended.",
                $"Build {id} is {build.CurrentState}; only a queued or running build can be cancelled.");
        }
        await bus.Publish(new CancelBuild { BuildId = id, RequestedBy = http.User.Identity?.Name ?? "anonymous" }, ct);
        return TypedResults.Accepted($"/api/v1/builds/{id}");
    }

    private static ProblemHttpResult NotFound(Guid id) =>
        Problem(StatusCodes.Status404NotFound, "No such build.", $"There is no build {id}.");

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: title);

    private static string ContentType(string name) =>
        name.EndsWith(".rpm", StringComparison.Ordinal) ? "application/x-rpm"
        : name.EndsWith(".log", StringComparison.Ordinal) ? "text/plain; charset=utf-8"
        : "application/octet-stream";
}
