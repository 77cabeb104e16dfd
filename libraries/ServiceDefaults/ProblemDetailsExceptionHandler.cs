using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace BuildFarm.ServiceDefaults;

/// <summary>
/// Turns unreadable requests into 400, a server the request needs being away for a moment (PostgreSQL, Redis, an
/// answer from the Scheduler) into 503 with <c>Retry-After</c>, and anything unexpected into 500, all as problem details.
/// </summary>
public sealed class ProblemDetailsExceptionHandler(IProblemDetailsService problems, ILogger<ProblemDetailsExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, "The request could not be read.", Describe(bad)),
            System.Text.Json.JsonException json => (StatusCodes.Status400BadRequest, "The request could not be read.", $"The body is not valid JSON: {json.Message}"),
            _ when TransientFailures.Is(exception) => (StatusCodes.Status503ServiceUnavailable, "The farm is briefly unavailable.",
                "A server the farm needs did not answer; nothing was changed. Try again in a few seconds."),
            _ => (StatusCodes.Status500InternalServerError, "The server failed to handle the request.", null),
        };
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            httpContext.Response.Headers.RetryAfter = "5";
            logger.LogWarning("{Method} {Path} answered 503: {Error}", httpContext.Request.Method, httpContext.Request.Path, exception.Message);
        }
        else if (status >= 500)
        {
            logger.LogError(exception, "Unhandled exception for {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
        }
        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail, Instance = httpContext.Features.Get<IHttpRequestFeature>()?.Path },
        });
    }

    private static string Describe(BadHttpRequestException exception) =>
        exception.InnerException is System.Text.Json.JsonException json
            ? $"The body is not valid JSON for this request: {json.Message}"
            : exception.Message;
}
