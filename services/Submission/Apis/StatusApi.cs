using BuildFarm.Contracts;
using BuildFarm.Submission.Builds;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BuildFarm.Submission.Apis;

/// <summary>Queue visibility: where a build stands, why it waits, when it should start; and the queue as a whole.</summary>
internal static class StatusApi
{
    public static RouteGroupBuilder MapStatusApi(this RouteGroupBuilder builds)
    {
        builds.MapGet("/{id:guid}/status", GetBuildStatus)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        builds.MapGet("/queue/status", GetQueueStatus).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return builds;
    }

    public static async Task<Results<Ok<BuildStatusReport>, ProblemHttpResult>> GetBuildStatus(
        Guid id, BuildQueries builds, IRequestClient<GetBuildStatus> scheduler, CancellationToken ct)
    {
        var build = await builds.FindAsync(id, ct);
        if (build is null)
        {
            return TypedResults.Problem($"There is no build {id}.", statusCode: StatusCodes.Status404NotFound, title: "No such build.");
        }
        try
        {
            var response = await scheduler.GetResponse<BuildStatusReport>(new GetBuildStatus { BuildId = id }, ct, RequestTimeout.After(s: 10));
            var report = response.Message;
            return TypedResults.Ok(report.Found
                ? report
                : report with { Found = true, State = build.CurrentState, WhyWaiting = "submitted; the Scheduler has not taken it up yet" });
        }
        catch (RequestTimeoutException)
        {
            return SchedulerUnavailable();
        }
    }

    public static async Task<Results<Ok<QueueStatusReport>, ProblemHttpResult>> GetQueueStatus(IRequestClient<GetQueueStatus> scheduler, CancellationToken ct)
    {
        try
        {
            var response = await scheduler.GetResponse<QueueStatusReport>(new GetQueueStatus(), ct, RequestTimeout.After(s: 10));
            return TypedResults.Ok(response.Message);
        }
        catch (RequestTimeoutException)
        {
            return SchedulerUnavailable();
        }
    }

    private static ProblemHttpResult SchedulerUnavailable() =>
        TypedResults.Problem("The Scheduler did not answer within 10 s.", statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "The Scheduler is not available.");
}
