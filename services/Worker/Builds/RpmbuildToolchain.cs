namespace BuildFarm.Worker.Builds;

/// <summary>The host's rpmbuild: <c>rpmbuild -ba</c> with the workspace as _topdir and the checkout as _sourcedir.</summary>
internal sealed class RpmbuildToolchain(string rpmbuild) : IToolchain
{
    public static string TopDirectory(BuildContext context) => Path.Combine(context.Workspace, "rpmbuild");

    public async Task<RunResult> BuildAsync(BuildContext context)
    {
        var top = TopDirectory(context);
        Directory.CreateDirectory(top);
        var exit = await context.RunAsync(rpmbuild,
            ["-ba", "--define", $"_topdir {top}", "--define", $"_sourcedir {context.CheckoutDirectory}", context.SpecFile],
            context.CheckoutDirectory, Sandboxing.Confinement.Isolated).ConfigureAwait(false);
        return ExitCodes.Rpmbuild(exit.ExitCode);
    }

    public IEnumerable<(string File, string Kind)> Outputs(BuildContext context, bool succeeded)
    {
        if (!succeeded)
        {
            yield break;
        }
        var top = TopDirectory(context);
        foreach (var file in Files(Path.Combine(top, "SRPMS"), "*.src.rpm"))
        {
            yield return (file, ArtifactKinds.SourceRpm);
        }
        foreach (var file in Files(Path.Combine(top, "RPMS"), "*.rpm"))
        {
            yield return (file, ArtifactKinds.Rpm);
        }
    }

    public Task CleanUpAsync(BuildContext context) => Task.CompletedTask;

    private static IEnumerable<string> Files(string directory, string pattern) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, pattern, SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            : [];
}
