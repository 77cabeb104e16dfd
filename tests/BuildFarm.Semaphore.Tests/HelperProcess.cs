using System.Diagnostics;
using BuildFarm.Testing;

namespace BuildFarm.Semaphore.Tests;

/// <summary>This test assembly run as a separate process in a helper mode of <see cref="Program"/>.</summary>
internal sealed class HelperProcess : IDisposable
{
    private readonly Process _process;

    private HelperProcess(Process process) => _process = process;

    public static HelperProcess Start(string mode, string prefix, string holderId, TimeSpan ttl)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "exec", typeof(Program).Assembly.Location, mode, TestServers.Redis, prefix, holderId, ((long)ttl.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }
        return new HelperProcess(Process.Start(start) ?? throw new InvalidOperationException("the helper process did not start"));
    }

    public async Task<string> ReadLineAsync()
    {
        var line = await _process.StandardOutput.ReadLineAsync().WaitAsync(SemaphoreScope.Patience);
        if (line is null)
        {
            var error = await _process.StandardError.ReadToEndAsync();
            throw new InvalidOperationException($"the helper process ended without a line: {error}");
        }
        return line;
    }

    /// <summary>kill -9: Process.Kill sends SIGKILL on Linux; returns the exit code the runtime reports.</summary>
    public async Task<int> KillWithSigkillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync().WaitAsync(SemaphoreScope.Patience);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        _process.Dispose();
    }
}
