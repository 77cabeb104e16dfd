using Microsoft.Extensions.Logging;

namespace BuildFarm.Worker.Builds;

/// <summary>
/// Fedora's mock in a build root of the attempt's own (<c>--uniqueext build-&lt;buildId&gt;-&lt;attempt&gt;</c>), so
/// builds of one configuration run side by side: build the source package from the spec, rebuild it into
/// binary packages, and scrub the unique root afterwards whatever happened. mock's build.log and root.log
/// are followed into the log while it runs.
/// </summary>
internal sealed class MockToolchain(string mock, string config, ILogger logger) : IToolchain
{
    public static string UniqueExtension(BuildContext context) => $"build-{context.Request.BuildId:D}-{context.Request.Attempt}";

    public async Task<RunResult> BuildAsync(BuildContext context)
    {
        Directory.CreateDirectory(context.ResultDirectory);
        var unique = UniqueExtension(context);
        await using var buildLog = new LogFileTail(Path.Combine(context.ResultDirectory, "build.log"), context.Log.Stream("build"));
        await using var rootLog = new LogFileTail(Path.Combine(context.ResultDirectory, "root.log"), context.Log.Stream("root"));

        var sources = await context.RunAsync(mock,
            ["-r", config, "--uniqueext", unique, "--resultdir", context.ResultDirectory,
             "--buildsrpm", "--spec", context.SpecFile, "--sources", context.CheckoutDirectory],
            context.Workspace, Sandboxing.Confinement.Mock).ConfigureAwait(false);
        if (sources.ExitCode != 0 || sources.Stopped)
        {
            return ExitCodes.Mock(sources.ExitCode);
        }

        var sourcePackages = Directory.GetFiles(context.ResultDirectory, "*.src.rpm");
        if (sourcePackages.Length != 1)
        {
            return RunResult.BuildFailure($"mock --buildsrpm made {sourcePackages.Length} source packages, expected one");
        }
        var binaries = await context.RunAsync(mock,
            ["-r", config, "--uniqueext", unique, "--resultdir", context.ResultDirectory, "--rebuild", sourcePackages[0]],
            context.Workspace, Sandboxing.Confinement.Mock).ConfigureAwait(false);
        return ExitCodes.Mock(binaries.ExitCode);
    }

    public IEnumerable<(string File, string Kind)> Outputs(BuildContext context, bool succeeded)
    {
        if (!Directory.Exists(context.ResultDirectory))
        {
            yield break;
        }
        foreach (var file in Directory.EnumerateFiles(context.ResultDirectory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(file);
            if (name.EndsWith(".log", StringComparison.Ordinal))
            {
                yield return (file, ArtifactKinds.Log);
            }
            else if (succeeded && name.EndsWith(".src.rpm", StringComparison.Ordinal))
            {
                yield return (file, ArtifactKinds.SourceRpm);
            }
            else if (succeeded && name.EndsWith(".rpm", StringComparison.Ordinal))
            {
                yield return (file, ArtifactKinds.Rpm);
            }
        }
    }

    /// <summary>Scrubs the unique root (not cancellable by the build's stop: it runs after it).</summary>
    public async Task CleanUpAsync(BuildContext context)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var exit = await context.RunAsync(mock, ["-r", config, "--uniqueext", UniqueExtension(context), "--scrub=all"],
            context.Workspace, Sandboxing.Confinement.Mock, stopOverride: limit.Token).ConfigureAwait(false);
        if (exit.ExitCode != 0)
        {
            logger.LogWarning("Scrubbing mock root {Config}-{Unique} failed with exit code {ExitCode}",
                config, UniqueExtension(context), exit.ExitCode);
        }
    }
}
