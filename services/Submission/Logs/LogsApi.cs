using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using BuildFarm.Submission.Builds;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BuildFarm.Submission.Logs;

/// <summary>Build logs: complete (one stream or all, byte ranges of one stream) and live as Server-Sent Events.</summary>
internal static class LogsApi
{
    private static readonly string[] Streams = ["stdout", "stderr", "build", "root"];

    public static RouteGroupBuilder MapLogsApi(this RouteGroupBuilder builds)
    {
        builds.MapGet("/{id:guid}/logs", GetLogs)
            .Produces<string>(StatusCodes.Status200OK, "text/plain").Produces<string>(StatusCodes.Status206PartialContent, "text/plain")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status416RangeNotSatisfiable);
        builds.MapGet("/{id:guid}/logs/follow", FollowLogs)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        return builds;
    }

    /// <summary>
    /// The log of the latest attempt (or <paramref name="attempt"/>): all streams in the order they arrived, or one
    /// <paramref name="stream"/> (stdout, stderr, build, root), where a <c>Range: bytes=a-b</c> header selects bytes.
    /// </summary>
    public static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> GetLogs(
        Guid id, int? attempt, string? stream, BuildQueries builds, LogStore logs, HttpContext http, CancellationToken ct)
    {
        if (stream is not null && !Streams.Contains(stream))
        {
            return TypedResults.Problem($"stream must be one of {string.Join(", ", Streams)}.", statusCode: 400, title: "Unknown log stream.");
        }
        if (await builds.FindAsync(id, ct) is null)
        {
            return TypedResults.Problem($"There is no build {id}.", statusCode: 404, title: "No such build.");
        }
        (long From, long To)? range = null;
        if (http.Request.Headers.Range.Count > 0)
        {
            if (stream is null || !RangeHeaderValue.TryParse(http.Request.Headers.Range.ToString(), out var header)
                || header.Unit != "bytes" || header.Ranges.Count != 1 || header.Ranges.First().From is not { } from)
            {
                return TypedResults.Problem("Byte ranges need ?stream= and one range of the form bytes=FROM- or bytes=FROM-TO.",
                    statusCode: StatusCodes.Status416RangeNotSatisfiable, title: "Range not satisfiable.");
            }
            range = (from, header.Ranges.First().To is { } to ? to + 1 : long.MaxValue);
            http.Response.StatusCode = StatusCodes.Status206PartialContent;
        }
        http.Response.Headers.AcceptRanges = "bytes";
        return TypedResults.Stream(async body =>
        {
            await foreach (var chunk in logs.ReadLogAsync(id, attempt, stream, 0, range, ct))
            {
                var bytes = Encoding.UTF8.GetBytes(chunk.Text);
                var start = range is { } r ? (int)Math.Clamp(r.From - chunk.Offset, 0, bytes.Length) : 0;
                var end = range is { } q ? (int)Math.Clamp(q.To - chunk.Offset, 0, bytes.Length) : bytes.Length;
                await body.WriteAsync(bytes.AsMemory(start, end - start), ct);
            }
        }, "text/plain; charset=utf-8");
    }

    /// <summary>How long a user refused a follower is asked to wait (Retry-After).</summary>
    public const int FollowerRetryAfterSeconds = 10;

    /// <summary>
    /// The log as it is written, as Server-Sent Events (<c>event: log</c>, data {attempt, stream, offset, text}, id = the
    /// batch's position), resumable with <c>Last-Event-ID</c>; ends with <c>event: end</c> once the build has ended and
    /// its whole log was sent. A user has at most <see cref="LogsOptions.MaxFollowersPerUser"/> followers open (429 beyond).
    /// </summary>
    public static async Task<Results<ServerSentEventsResult<string>, ProblemHttpResult>> FollowLogs(
        Guid id, string? stream, BuildQueries builds, LogStore logs, LogNotifier notifier, LogFollowers followers, HttpContext http, CancellationToken ct)
    {
        var user = http.User.Identity?.Name ?? "anonymous";
        var place = followers.TryEnter(user);
        if (place is null)
        {
            http.Response.Headers.RetryAfter = FollowerRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Problem(
                $"{user} already follows {followers.MaxPerUser} logs, the most one user may follow at once; close one or try again later.",
                statusCode: StatusCodes.Status429TooManyRequests, title: "Too many log followers.");
        }
        // The place is the follower's until its response ends, however it ends.
        http.Response.RegisterForDispose(place);
        if (await builds.FindAsync(id, ct) is null)
        {
            return TypedResults.Problem($"There is no build {id}.", statusCode: 404, title: "No such build.");
        }
        long.TryParse(http.Request.Headers["Last-Event-ID"].ToString(), out var lastId);
        http.Response.Headers["X-Accel-Buffering"] = "no";
        return TypedResults.ServerSentEvents(Follow(id, stream, lastId, builds, logs, notifier, http.Response, ct));
    }

    /// <summary>
    /// The events of a follower: every batch after <paramref name="lastId"/>, as it is stored, then <c>end</c>. Each page of
    /// batches is read from the database before its events are written, so a slow client holds no database connection.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<string>> Follow(Guid id, string? stream, long lastId, BuildQueries builds, LogStore logs,
        LogNotifier notifier, HttpResponse response, [EnumeratorCancellation] CancellationToken ct)
    {
        // The headers go out now, not with the first batch: a client sees at once that it follows (a flush sends them;
        // StartAsync alone would leave them in Kestrel's buffer).
        await response.Body.FlushAsync(ct);
        while (!ct.IsCancellationRequested)
        {
            var wake = notifier.WaitAsync(id, TimeSpan.FromSeconds(2), ct);
            var finished = (await builds.FindAsync(id, ct))?.IsFinished ?? true;
            await foreach (var chunk in logs.ReadLogAsync(id, null, stream, lastId, null, ct))
            {
                lastId = Math.Max(lastId, chunk.Id);
                yield return LogEvent(chunk);
            }
            if (finished)
            {
                // Log batches and the build's end travel separately: give a straggler a moment, then send it too.
                await notifier.WaitAsync(id, TimeSpan.FromMilliseconds(500), ct);
                await foreach (var chunk in logs.ReadLogAsync(id, null, stream, lastId, null, ct))
                {
                    lastId = Math.Max(lastId, chunk.Id);
                    yield return LogEvent(chunk);
                }
                yield return new SseItem<string>("{}", "end");
                yield break;
            }
            await wake;
        }
    }

    private static SseItem<string> LogEvent(LogChunk chunk) =>
        new(JsonSerializer.Serialize(new { chunk.Attempt, chunk.Stream, chunk.Offset, chunk.Text }, JsonSerializerOptions.Web), "log")
        {
            EventId = chunk.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
}
