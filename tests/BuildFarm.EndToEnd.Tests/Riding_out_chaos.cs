using System.Diagnostics;

namespace BuildFarm.EndToEnd.Tests;

/// <summary>
/// <c>./farm chaos --short</c> (bench/Chaos) as a test: its own farm of two Schedulers and three Workers with limit 4,
/// about 30 builds, one SIGKILL of each service kind and one server stopped for 15 s; every invariant of issue 9 holds
/// (the run exits 0). Each run takes a new seed unless BUILDFARM_CHAOS_SEED names one; a failure prints the run's
/// summary (with its seed, to run it again) and where its report is.
/// </summary>
public class Riding_out_chaos
{
    [Fact]
    public async Task Loses_no_accepted_build_and_runs_none_twice()
    {
        var dll = Path.Combine(Repository.Root, "bench", "Chaos", "bin", Repository.Configuration, "net10.0", "BuildFarm.Chaos.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution first");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--short");
        if (Environment.GetEnvironmentVariable("BUILDFARM_CHAOS_SEED") is { Length: > 0 } seed)
        {
            start.ArgumentList.Add("--seed");
            start.ArgumentList.Add(seed);
        }
        start.Environment["PATH"] = Path.Combine(Repository.Root, "tests", "mock") + ":" + Environment.GetEnvironmentVariable("PATH");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var output = await stdout;
        var summary = output[Math.Max(0, output.IndexOf("\nChaos run ", StringComparison.Ordinal))..];
        Assert.True(process.ExitCode == 0, $"the chaos run exited {process.ExitCode}:\n{summary}\n{await stderr}");
    }
}
