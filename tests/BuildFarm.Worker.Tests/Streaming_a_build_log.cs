using System.Text;

namespace BuildFarm.Worker.Tests;

public sealed class Streaming_a_build_log : IAsyncLifetime
{
    private readonly GitRepository _repository = new();
    private TestWorker _worker = null!;

    public Task InitializeAsync()
    {
        _worker = new TestWorker(o => o.BuildEnvironment["MOCK_SPAM_MB"] = "1");
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Delivers_every_byte_in_order_with_contiguous_sequences_and_offsets()
    {
        var request = TestWorker.Request(_repository.Url, _repository.Head, "mock:" + TestWorker.MockConfig, architecture: "x86_64");

        var finished = await _worker.BuildAsync(request);

        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        var stdout = _worker.Events.Log(request.BuildId, "stdout");
        Assert.True(stdout.Count > 2, $"expected more than one batch, got {stdout.Count}");
        // The stand-in printed 1 MiB of numbered lines in each of its two runs (buildsrpm, rebuild).
        var spam = Spam(1024 * 1024);
        Assert.Equal(spam + spam, string.Concat(stdout.Select(b => b.Text)));
        foreach (var stream in new[] { "stdout", "stderr", "build", "root" })
        {
            AssertContiguous(_worker.Events.Log(request.BuildId, stream));
        }
        Assert.Contains("Wrote:", string.Concat(_worker.Events.Log(request.BuildId, "build").Select(b => b.Text)));
        Assert.Contains("installing minimal buildroot", string.Concat(_worker.Events.Log(request.BuildId, "root").Select(b => b.Text)));
    }

    [Fact]
    public async Task Publishes_every_batch_before_the_end_of_the_attempt()
    {
        var request = TestWorker.Request(_repository.Url, _repository.Head, "mock:" + TestWorker.MockConfig, architecture: "x86_64");

        var finished = await _worker.BuildAsync(request);

        var all = _worker.Events.All.ToList();
        var end = all.IndexOf(finished);
        Assert.All(all.OfType<BuildLogAppended>().Where(l => l.BuildId == request.BuildId), l => Assert.True(all.IndexOf(l) < end));
    }

    private static void AssertContiguous(IReadOnlyList<BuildLogAppended> batches)
    {
        Assert.NotEmpty(batches);
        long offset = 0;
        for (var i = 0; i < batches.Count; i++)
        {
            Assert.Equal(i + 1, batches[i].Sequence);
            Assert.Equal(offset, batches[i].Offset);
            Assert.InRange(Encoding.UTF8.GetByteCount(batches[i].Text), 1, 64 * 1024);
            offset += Encoding.UTF8.GetByteCount(batches[i].Text);
        }
    }

    private static string Spam(int total)
    {
        var text = new StringBuilder();
        for (var n = 1; text.Length < total; n++)
        {
            text.Append("spam line ").Append(n.ToString("D9", System.Globalization.CultureInfo.InvariantCulture)).Append(' ')
                .Append('x', 40).Append('\n');
        }
        return text.ToString();
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        _repository.Dispose();
    }
}
