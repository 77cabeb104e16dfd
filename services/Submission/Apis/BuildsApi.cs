using BuildFarm.Contracts;
using BuildFarm.Domain.Artifacts;
using BuildFarm.Persistence.Outbox;
using BuildFarm.ServiceDefaults;
using BuildFarm.ServiceDefaults.Auth;
using BuildFarm.Submission.Builds;
using BuildFarm.Submission.Infrastructure;
using BuildFarm.Submission.Logs;
using BuildFarm.Submission.Servers;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace BuildFarm.Submission.Apis;

/// <summary>The builds API under /api/v1/builds, and the build servers at /api/v1/servers.</summary>
internal static class BuildsApi
{
    private static readonly System.Diagnostics.Metrics.Meter Meter = new(Extensions.TelemetryName);
    private static readonly System.Diagnostics.Metrics.Counter<long> CorruptArtifacts =
        Meter.CreateCounter<long>("buildfarm.artifacts.corrupt", description: "Downloads refused because the stored file no longer matched its SHA-256");

    public const int MaxPageSize = 200;

    public static RouteGroupBuilder MapBuildsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/builds").WithTags("Builds").RequireAuthorization(FarmPolicies.Viewer)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapPost("/", SubmitBuild)
            .RequireAuthorization(FarmPolicies.Submitter)
            .AddEndpointFilter<ValidationFilter<SubmitBuildRequest>>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapGet("/", ListBuilds).ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/{id:guid}", GetBuild).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id:guid}/artifacts", ListArtifacts).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id:guid}/artifacts/{name}", DownloadArtifact).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapMethods("/{id:guid}/cancel", ["PUT", "POST"], CancelBuild).RequireAuthorization(FarmPolicies.Submitter)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapStatusApi();
        api.MapLogsApi();

        app.MapGet("/api/v1/servers", ListServers).WithTags("Servers").RequireAuthorization(FarmPolicies.Viewer)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        return api;
    }

    public static async Task<Results<Accepted<SubmitBuildResponse>, Ok<SubmitBuildResponse>, ValidationProblem, ProblemHttpResult>> SubmitBuild(
        SubmitBuildRequest body,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        BuildSubmissions submissions,
        QueueLengthCache queueLength,
        PostgresOutbox outbox,
        FarmSettingsCache settings,
        TimeProvider time,
        HttpContext http,
        CancellationToken ct)
    {
        if (idempotencyKey is { Length: > 200 })
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["Idempotency-Key"] = ["must be at most 200 characters"] });
        }
        // A retry of an accepted request gets its build back before anything else is checked, a full queue included.
        if (idempotencyKey is not null && await submissions.FindByIdempotencyKeyAsync(User(http), idempotencyKey, ct) is { } earlier)
        {
            return TypedResults.Ok(new SubmitBuildResponse(earlier, "Queued", BuildLinks.For(earlier)));
        }
        var limit = settings.Current.MaxQueueSize;
        if (await queueLength.LengthAsync(limit, submissions.CountQueuedAsync, ct) >= limit)
        {
            http.Response.Headers.RetryAfter = "60";
            return TypedResults.Problem($"The queue holds its maximum of {limit} builds; try again later.",
                statusCode: StatusCodes.Status429TooManyRequests, title: "The build queue is full.");
        }
        var request = body.ToMessage(NewId.NextGuid(), User(http), time.GetUtcNow());
        var (buildId, created) = await submissions.SubmitAsync(outbox, request, idempotencyKey, ct);
        var response = new SubmitBuildResponse(buildId, "Queued", BuildLinks.For(buildId));
        return created
            ? TypedResults.Accepted(response.Links.Self, response)
            : TypedResults.Ok(response);
    }

    public static async Task<Results<Ok<BuildPage>, ProblemHttpResult>> ListBuilds(
        string? state, string? architecture, string? server, string? repository, string? submitter, string? priority,
        DateTimeOffset? from, DateTimeOffset? to, string? cursor, int? limit, BuildQueries builds, CancellationToken ct)
    {
        if (!BuildCursor.TryDecode(cursor, out var after))
        {
            return TypedResults.Problem("The cursor is not one this API gave out.", statusCode: 400, title: "Bad cursor.");
        }
        if (limit is < 1 or > MaxPageSize)
        {
            return TypedResults.Problem($"limit must be between 1 and {MaxPageSize}.", statusCode: 400, title: "Bad limit.");
        }
        var (page, next) = await builds.ListAsync(
            new BuildQuery(state, architecture, server, repository, submitter, priority, from, to, after, limit ?? 50), ct);
        return TypedResults.Ok(new BuildPage([.. page.Select(BuildResponse.From)], next?.Encode()));
    }

    public static async Task<Results<Ok<BuildResponse>, ProblemHttpResult>> GetBuild(Guid id, BuildQueries builds, CancellationToken ct) =>
        await builds.FindAsync(id, ct) is { } build
            ? TypedResults.Ok(BuildResponse.From(build))
            : NotFound(id);

    public static async Task<Results<Ok<IReadOnlyList<ArtifactResponse>>, ProblemHttpResult>> ListArtifacts(Guid id, BuildQueries builds, CancellationToken ct) =>
        await builds.FindAsync(id, ct) is { } build
            ? TypedResults.Ok<IReadOnlyList<ArtifactResponse>>([.. build.Artifacts.Select(a => ArtifactResponse.From(id, a))])
            : NotFound(id);

    public static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> DownloadArtifact(
        Guid id, string name, BuildQueries builds, ArtifactStore artifacts, HttpContext http, ILoggerFactory loggers, CancellationToken ct)
    {
        var build = await builds.FindAsync(id, ct);
        var artifact = build?.Artifacts.FirstOrDefault(a => a.Name == name);
        if (build is null || artifact is null || !artifacts.Contains(artifact.Sha256))
        {
            return Problem(StatusCodes.Status404NotFound, "No such artifact.",
                build is null ? $"There is no build {id}." : $"Build {id} has no artifact named '{name}'.");
        }
        // The stored file is checked against the checksum the Worker recorded before a byte is served: a file changed
        // on disk is an error for operators, never a silent download.
        var (intact, actual) = await artifacts.VerifyAsync(artifact.Sha256, ct);
        if (!intact)
        {
            CorruptArtifacts.Add(1);
            loggers.CreateLogger("BuildFarm.Submission.Artifacts").LogError(
                "Artifact {Name} of build {BuildId} is corrupted: stored as SHA-256 {Expected}, the file now has {Actual}",
                artifact.Name, id, artifact.Sha256, actual ?? "(missing)");
            return Problem(StatusCodes.Status500InternalServerError, "Artifact corrupted.",
                $"The stored file of {artifact.Name} (build {id}) no longer matches its SHA-256 {artifact.Sha256}; " +
                "it is not served. The farm's operators have been told.");
        }
        if (!artifacts.TryOpen(artifact.Sha256, out var stream))
        {
            return Problem(StatusCodes.Status404NotFound, "No such artifact.", $"Build {id} has no artifact named '{name}'.");
        }
        http.Response.Headers["Digest"] = $"sha-256={Convert.ToBase64String(Convert.FromHexString(artifact.Sha256))}";
        http.Response.Headers["X-Checksum-Sha256"] = artifact.Sha256;
        return TypedResults.File(stream, ContentType(artifact.Name), artifact.Name, enableRangeProcessing: true);
    }

    /// <summary>Cancel a queued or running build: its submitter or an admin.</summary>
    public static async Task<Results<Accepted, ProblemHttpResult>> CancelBuild(
        Guid id, BuildQueries builds, IPublishEndpoint bus, HttpContext http, CancellationToken ct)
    {
        var build = await builds.FindAsync(id, ct);
        if (build is null)
        {
            return NotFound(id);
        }
        if (build.SubmittedBy != User(http) && !http.User.IsInRole(FarmRoles.Admin))
        {
            return Problem(StatusCodes.Status403Forbidden, "Not your build.",
                $"Build {id} was submitted by {build.SubmittedBy}; only its submitter or an admin can cancel it.");
        }
        if (build.IsFinished || build.CurrentState == "Rejected")
        {
            return Problem(StatusCodes.Status409Conflict, "The build has already ended.",
                $"Build {id} is {build.CurrentState}; only a queued or running build can be cancelled.");
        }
        await bus.Publish(new CancelBuild { BuildId = id, RequestedBy = User(http) }, ct);
        return TypedResults.Accepted($"/api/v1/builds/{id}");
    }

    public static async Task<Ok<IReadOnlyList<ServerRecord>>> ListServers(ServerQueries servers, CancellationToken ct) =>
        TypedResults.Ok(await servers.ListAsync(ct));

    private static string User(HttpContext http) => http.User.Identity?.Name ?? "anonymous";

    private static ProblemHttpResult NotFound(Guid id) =>
        Problem(StatusCodes.Status404NotFound, "No such build.", $"There is no build {id}.");

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: title);

    private static string ContentType(string name) =>
        name.EndsWith(".rpm", StringComparison.Ordinal) ? "application/x-rpm"
        : name.EndsWith(".log", StringComparison.Ordinal) ? "text/plain; charset=utf-8"
        : "application/octet-stream";
}

/// <summary>One page of builds, newest first; pass <see cref="Next"/> as ?cursor= for the next page.</summary>
public sealed record BuildPage(IReadOnlyList<BuildResponse> Builds, string? Next);
