using System.Diagnostics;
using System.Text.Json;

namespace BuildFarm.EndToEnd.Tests;

/// <summary>
/// <c>./farm bench --quick</c> (bench/Farm) as a test: its own servers and farm, every scenario of issue 10 once at a
/// small size. No timing is asserted (timing goals live in bench/): only that every scenario produced its figures and
/// that no accepted build, message or log line was lost.
/// </summary>
public class Benchmarking_the_farm
{
    private static readonly string[] Scenarios = ["raw-rabbitmq", "idle-dispatch", "slot-hand-off", "throughput", "mass-rebuild", "log"];

    [Fact]
    public async Task Produces_every_scenario_s_figures_and_loses_nothing()
    {
        var dll = Path.Combine(Repository.Root, "bench", "Farm", "bin", Repository.Configuration, "net10.0", "BuildFarm.Farm.Bench.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution first");
        var report = Path.Combine(Path.GetTempPath(), $"bench-quick-{Guid.NewGuid():N}.json");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { dll, "--quick", "--fsync", "off", "--out", report })
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var output = await stdout;
        var summary = output[Math.Max(0, output.IndexOf("\nBench run ", StringComparison.Ordinal))..];
        Assert.True(process.ExitCode == 0, $"the quick bench exited {process.ExitCode}:\n{summary}\n{await stderr}");

        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(report));
        File.Delete(report);
        var root = document.RootElement;
        Assert.True(root.GetProperty("complete").GetBoolean(), summary);
        Assert.Equal(0, root.GetProperty("lost").GetDouble());
        var scenarios = root.GetProperty("scenarios").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Equal(Scenarios.Order(), scenarios.Keys.Order());
        foreach (var (name, scenario) in scenarios)
        {
            Assert.True(scenario.GetProperty("errors").GetArrayLength() == 0, $"{name}: {scenario.GetProperty("errors")}");
            var runs = scenario.GetProperty("runs").EnumerateArray().ToList();
            Assert.Single(runs);
            // Every figure a number (a percentile of an empty sample is NaN), and every run of a farm scenario lost nothing.
            foreach (var figure in runs[0].EnumerateObject())
            {
                Assert.True(figure.Value.ValueKind == JsonValueKind.Number, $"{name}.{figure.Name} is {figure.Value}");
            }
            if (runs[0].TryGetProperty("lost", out var lost))
            {
                Assert.Equal(0, lost.GetDouble());
            }
        }
        Assert.True(scenarios["raw-rabbitmq"].GetProperty("figures").GetProperty("messagesPerSecond").GetProperty("median").GetDouble() > 0);
        Assert.True(scenarios["throughput"].GetProperty("figures").GetProperty("messagesPublishedPerBuild").GetProperty("median").GetDouble() > 0);
        Assert.True(scenarios["log"].GetProperty("runs")[0].GetProperty("linesReceived").GetDouble() > 0);
        // Each of issue 10's ten targets judged (held or missed, never asserted).
        Assert.Equal(10, root.GetProperty("targets").GetArrayLength());
    }
}
