using System.Diagnostics;
using System.Globalization;

namespace BuildFarm.Worker.Bench;

/// <summary>
/// How fast the stand-in mock alone can print through a pipe: one <c>--buildsrpm</c> call with MOCK_SPAM_MB, its stdout
/// read into nothing. The worker cannot stream faster than this, so it is the yardstick for the worker's throughput.
/// </summary>
internal static class ProducerCeiling
{
    public static async Task<(long Bytes, TimeSpan Duration)> MeasureAsync(string repositoryRoot, int spamMb)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"bfbench-ceiling-{Guid.NewGuid():N}");
        var sources = Path.Combine(directory, "src");
        Directory.CreateDirectory(sources);
        try
        {
            var spec = Path.Combine(sources, "hello.spec");
            await File.WriteAllTextAsync(spec, "Name: hello\nVersion: 1.0\nRelease: 1\nSummary: x\nLicense: MIT\nBuildArch: noarch\n");
            var start = new ProcessStartInfo(Path.Combine(repositoryRoot, "tests", "mock", "mock"))
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in new[] { "-r", "fedora-41-x86_64", "--uniqueext", "ceiling", "--resultdir", Path.Combine(directory, "result"),
                         "--buildsrpm", "--spec", spec, "--sources", sources })
            {
                start.ArgumentList.Add(argument);
            }
            start.Environment["MOCK_ROOT_BASE"] = Path.Combine(directory, "roots");
            start.Environment["MOCK_SPAM_MB"] = spamMb.ToString(CultureInfo.InvariantCulture);
            var clock = Stopwatch.StartNew();
            using var process = Process.Start(start)!;
            var errors = process.StandardError.ReadToEndAsync();
            var counter = new CountingStream();
            await process.StandardOutput.BaseStream.CopyToAsync(counter, 16 * 1024);
            await process.WaitForExitAsync();
            clock.Stop();
            await errors;
            return (counter.Length, clock.Elapsed);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => _length += count;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _length += buffer.Length;
            return ValueTask.CompletedTask;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
