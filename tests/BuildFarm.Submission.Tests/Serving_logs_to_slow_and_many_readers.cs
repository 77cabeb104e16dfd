using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using BuildFarm.ServiceDefaults.Auth;

namespace BuildFarm.Submission.Tests;

/// <summary>
/// Submission on Kestrel (real sockets, so a client that does not read makes the server wait) with a pool of 4 database
/// connections, two of which its LISTEN connections (outbox relay, log followers) keep, and at most 2 followers per user.
/// </summary>
public sealed class Serving_logs_to_slow_and_many_readers : IAsyncLifetime
{
    private readonly SubmissionApp app = new()
    {
        Kestrel = true,
        PostgresOptions = "Maximum Pool Size=4;Timeout=5",
        Configuration = new Dictionary<string, string> { ["Logs:MaxFollowersPerUser"] = "2" },
    };

    public Task InitializeAsync() => app.InitializeAsync();

    public Task DisposeAsync() => app.DisposeAsync();

    [Fact]
    public async Task Slow_followers_and_downloads_of_a_large_log_do_not_block_a_submission()
    {
        // 24 MiB of log: far more than the socket buffers of a client that reads nothing can take.
        var id = await LoggedBuilds.AddAsync(app.Database, "Building");
        var log = await LoggedBuilds.WriteLogAsync(app.Database, id, 384, 64 * 1024);
        var slow = new List<Socket>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                slow.Add(await StartReadingAsync($"/api/v1/builds/{id}/logs", $"slow-{i}"));
                slow.Add(await StartReadingAsync($"/api/v1/builds/{id}/logs/follow", $"slow-{i}"));
            }

            using var client = app.Client(FarmRoles.Submitter, "submitter-beside-slow-readers");
            using var response = await client.PostAsJsonAsync("/api/v1/builds", new
            {
                sourceRepository = "file:///srv/git/beside-slow-readers.git",
                branch = "main",
                commitHash = new string('b', 40),
                targetArchitecture = "x86_64",
                toolchain = "rpmbuild",
            });

            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        finally
        {
            slow.ForEach(socket => socket.Dispose());
        }

        // A reader that reads gets the whole log, in order, page after page.
        using var viewer = app.Client(FarmRoles.Viewer);
        Assert.Equal(log, await viewer.GetStringAsync($"/api/v1/builds/{id}/logs"));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/builds/{id}/logs?stream=stdout");
        request.Headers.Range = new RangeHeaderValue(1_000_000, 9_999_999);
        using var range = await viewer.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
        Assert.Equal(log[1_000_000..10_000_000], await range.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Refuses_a_follower_beyond_the_users_cap_until_one_leaves()
    {
        var id = await LoggedBuilds.AddAsync(app.Database, "Building");
        var path = $"/api/v1/builds/{id}/logs/follow";
        var first = await FollowAsync(path, "bob");
        using var second = await FollowAsync(path, "bob");
        Assert.Equal(HttpStatusCode.OK, first.Response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.Response.StatusCode);

        using (var third = await FollowAsync(path, "bob"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, third.Response.StatusCode);
            Assert.Equal("application/problem+json", third.Response.Content.Headers.ContentType?.MediaType);
            Assert.True(third.Response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            Assert.Contains("2", await third.Response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var carol = await FollowAsync(path, "carol"))
        {
            Assert.Equal(HttpStatusCode.OK, carol.Response.StatusCode);
        }

        first.Dispose();
        Follower? again = null;
        await Eventually.HoldsAsync(async () =>
        {
            again?.Dispose();
            again = await FollowAsync(path, "bob");
            return again.Response.StatusCode == HttpStatusCode.OK;
        }, "bob may follow again once one of his followers left");
        again!.Dispose();
    }

    /// <summary>Sends a GET as <paramref name="user"/> on a socket with a small receive buffer and reads only the status line.</summary>
    private async Task<Socket> StartReadingAsync(string path, string user)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(app.BaseAddress.Host, app.BaseAddress.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            $"GET {path} HTTP/1.1\r\nHost: {app.BaseAddress.Authority}\r\nAuthorization: Bearer {SubmissionApp.Token(FarmRoles.Viewer, user)}\r\n\r\n"));
        var status = new byte["HTTP/1.1 200".Length];
        for (var read = 0; read < status.Length;)
        {
            var n = await socket.ReceiveAsync(status.AsMemory(read));
            Assert.True(n > 0, $"{path} answered {Encoding.ASCII.GetString(status, 0, read)} and closed");
            read += n;
        }
        Assert.Equal("HTTP/1.1 200", Encoding.ASCII.GetString(status));
        return socket;
    }

    /// <summary>A follower on a connection of its own: disposing it closes that connection.</summary>
    private async Task<Follower> FollowAsync(string path, string user)
    {
        var client = app.Client(FarmRoles.Viewer, user);
        var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        return new Follower(client, response);
    }

    private sealed record Follower(HttpClient Client, HttpResponseMessage Response) : IDisposable
    {
        public void Dispose()
        {
            Response.Dispose();
            Client.Dispose();
        }
    }
}
