using BuildFarm.Bench;
// Runs the worker's real BuildRunner on the stand-in mock while the build prints MOCK_SPAM_MB MiB of output per
// mock call, samples the process's memory during the build, and writes bench/results/worker.md.
// usage: dotnet run -c Release --project bench/Worker -- [--sizes 64,1024] [--out FILE]
using System.Globalization;
using System.Runtime;
using BuildFarm.Worker.Bench;

var sizes = new[] { 64, 1024 };
string? output = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--sizes": sizes = [.. args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))]; break;
        case "--out": output = args[++i]; break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}; usage: [--sizes 64,1024] [--out FILE]");
            return 2;
    }
}
var root = Machine.RepositoryRoot();
output ??= Path.Combine(root, "bench", "results", "worker.md");

var loadBefore = HostFacts.LoadAverage();
var started = DateTimeOffset.UtcNow;
Console.WriteLine("measuring the stand-in mock alone (64 MiB into a pipe) ...");
var ceiling = await ProducerCeiling.MeasureAsync(root, 64);
var results = new List<SpamRun>();
foreach (var size in sizes)
{
    Console.WriteLine($"building with MOCK_SPAM_MB={size} ...");
    var result = await SpamRun.RunAsync(root, size, TimeSpan.FromMinutes(30));
    Console.WriteLine(result.Summary());
    results.Add(result);
}
var loadAfter = HostFacts.LoadAverage();

await File.WriteAllTextAsync(output, Report.Write(results, ceiling, started, loadBefore, loadAfter, GCSettings.IsServerGC));
Console.WriteLine($"wrote {output}");
return results.All(r => r.Succeeded) ? 0 : 1;
