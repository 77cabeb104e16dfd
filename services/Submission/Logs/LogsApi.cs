using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using BuildFarm.Submission.Builds;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

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
        Guid id, string? stream, BuildQueries builds, LogStore logs, LogNotifier notifier, LogFollowers followers, IOptions<LogsOptions> options,
        HttpContext http, CancellationToken ct)
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
        // A batch waits for the one before it as long as storing does (Logs:OrderWait), and a second more.
        var gapWait = options.Value.OrderWait + TimeSpan.FromSeconds(1);
        // Waits on the wall clock (the service's TimeProvider may be a test's fixed clock): they pace a live stream.
        return TypedResults.ServerSentEvents(Follow(id, stream, lastId, builds, logs, notifier, gapWait, TimeProvider.System, http.Response, ct));
    }

    /// <summary>
    /// The events of a follower: every batch after <paramref name="lastId"/>, each stream in its order with none skipped
    /// (<see cref="LogFollowOrder"/>), then <c>end</c> once the build has ended and no batch has come for
    /// <see cref="EndQuiet"/> (batches still on their way, which a loaded farm can hold back for a while, are sent first).
    /// Each page of batches is read from the database before its events are written, so a slow client holds no database
    /// connection. An event's id is where a resumed follower starts: every batch up to it was sent.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<string>> Follow(Guid id, string? stream, long lastId, BuildQueries builds, LogStore logs,
        LogNotifier notifier, TimeSpan gapWait, TimeProvider time, HttpResponse response, [EnumeratorCancellation] CancellationToken ct)
    {
        // The headers go out now, not with the first batch: a client sees at once that it follows (a flush sends them;
        // StartAsync alone would leave them in Kestrel's buffer).
        await response.Body.FlushAsync(ct);
        var order = new LogFollowOrder(gapWait, resumed: lastId > 0);
        order.Start(lastId);
        var quietSince = time.GetUtcNow();
        while (!ct.IsCancellationRequested)
        {
            var wake = notifier.WaitAsync(id, order.Held > 0 ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromSeconds(2), ct);
            var finished = (await builds.FindAsync(id, ct))?.IsFinished ?? true;
            var sent = 0;
            await foreach (var chunk in logs.ReadLogAsync(id, null, stream, order.SafeId, null, ct))
            {
                foreach (var ready in order.Add(chunk, time.GetUtcNow()))
                {
                    sent++;
                    yield return LogEvent(ready, order.SafeId);
                }
            }
            // A stream waiting for a batch whose id is at or below where reads start: look that batch up.
            foreach (var (attempt, gapStream, next) in order.Gaps.ToList())
            {
                foreach (var chunk in await logs.ReadStreamFromAsync(id, attempt, gapStream, next, order.SafeId, ct))
                {
                    foreach (var ready in order.Add(chunk, time.GetUtcNow()))
                    {
                        sent++;
                        yield return LogEvent(ready, order.SafeId);
                    }
                }
            }
            foreach (var ready in order.ReleaseOverdue(time.GetUtcNow()))
            {
                sent++;
                yield return LogEvent(ready, order.SafeId);
            }
            if (sent > 0 || order.Held > 0)
            {
                quietSince = time.GetUtcNow();
            }
            else if (finished && time.GetUtcNow() - quietSince >= EndQuiet)
            {
                yield return new SseItem<string>("{}", "end");
                yield break;
            }
            await (finished ? notifier.WaitAsync(id, TimeSpan.FromMilliseconds(250), ct) : wake);
        }
    }

    /// <summary>How long no batch has come, after the build ended, before a follower is told the log has ended.</summary>
    public static readonly TimeSpan EndQuiet = TimeSpan.FromSeconds(1);

    private static SseItem<string> LogEvent(LogChunk chunk, long resumeAfter) =>
        new(JsonSerializer.Serialize(new { chunk.Attempt, chunk.Stream, chunk.Offset, chunk.Text }, JsonSerializerOptions.Web), "log")
        {
            EventId = resumeAfter.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
}
