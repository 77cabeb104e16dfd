using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace BuildFarm.Farm.Bench;

/// <summary>A build as the list API shows it.</summary>
internal sealed record ListedBuild(Guid Id, string State, DateTimeOffset SubmittedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt);

/// <summary>The farm's public HTTP API as the benchmark's clients use it.</summary>
internal static class FarmApi
{
    public static readonly string[] Terminal = ["Completed", "Failed", "Cancelled", "TimedOut", "Rejected"];

    /// <summary>
    /// POSTs a build with an Idempotency-Key, again with the same key after a 5xx or no answer (at most 5 times), so a
    /// build is accepted once or not at all. Returns its id, or null with the last answer when it was refused.
    /// </summary>
    public static async Task<(Guid? Id, string? Error)> SubmitAsync(HttpClient http, Uri submission, object body)
    {
        var key = Guid.NewGuid().ToString("N");
        string? error = null;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(submission, "/api/v1/builds")) { Content = JsonContent.Create(body) };
                request.Headers.Add("Idempotency-Key", key);
                using var response = await http.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                if (response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK)
                {
                    using var document = JsonDocument.Parse(text);
                    return (document.RootElement.GetProperty("id").GetGuid(), null);
                }
                error = $"{(int)response.StatusCode} {text[..Math.Min(text.Length, 200)]}";
                if (response.StatusCode < HttpStatusCode.InternalServerError)
                {
                    return (null, error);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                error = ex.GetType().Name + ": " + ex.Message;
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        return (null, error);
    }

    /// <summary>Every build the list API returns for <paramref name="query"/> (e.g. "submitter=x"), page by page.</summary>
    public static async Task<List<ListedBuild>> ListAllAsync(HttpClient http, Uri submission, string query)
    {
        var builds = new List<ListedBuild>();
        string? cursor = null;
        do
        {
            var url = new Uri(submission, $"/api/v1/builds?{query}&limit=200{(cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))}");
            using var document = JsonDocument.Parse(await http.GetStringAsync(url));
            foreach (var b in document.RootElement.GetProperty("builds").EnumerateArray())
            {
                builds.Add(new ListedBuild(
                    b.GetProperty("id").GetGuid(),
                    b.GetProperty("state").GetString()!,
                    b.GetProperty("submittedAt").GetDateTimeOffset(),
                    b.GetProperty("startedAt").ValueKind == JsonValueKind.Null ? null : b.GetProperty("startedAt").GetDateTimeOffset(),
                    b.GetProperty("finishedAt").ValueKind == JsonValueKind.Null ? null : b.GetProperty("finishedAt").GetDateTimeOffset()));
            }
            cursor = document.RootElement.TryGetProperty("next", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (cursor is not null);
        return builds;
    }

    /// <summary>Waits until the list API shows every one of <paramref name="ids"/> (submitted by <paramref name="submitter"/>) ended.</summary>
    public static async Task<Dictionary<Guid, ListedBuild>> AwaitEndedAsync(HttpClient http, Uri submission, string submitter, IReadOnlyCollection<Guid> ids, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var listed = (await ListAllAsync(http, submission, "submitter=" + Uri.EscapeDataString(submitter))).ToDictionary(b => b.Id);
            var open = ids.Count(id => !listed.TryGetValue(id, out var b) || !Terminal.Contains(b.State));
            if (open == 0)
            {
                return listed;
            }
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{open} of {ids.Count} builds had not ended after {timeout.TotalSeconds:0} s");
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Runs <paramref name="request"/> <paramref name="count"/> times one after another; returns each time in ms (fails on a non-2xx answer).</summary>
    public static async Task<List<double>> TimeAsync(HttpClient http, int count, Func<int, Uri> request)
    {
        var times = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var watch = Stopwatch.StartNew();
            using var response = await http.GetAsync(request(i), HttpCompletionOption.ResponseContentRead);
            times.Add(watch.Elapsed.TotalMilliseconds);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"GET {request(i)} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
        }
        return times;
    }
}
