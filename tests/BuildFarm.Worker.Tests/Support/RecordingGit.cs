using BuildFarm.Testing;

namespace BuildFarm.Worker.Tests.Support;

/// <summary>A git that records each invocation's arguments (one line each) and then runs the real git.</summary>
public sealed class RecordingGit : IDisposable
{
    private readonly TempDirectory _directory = new("bfgit");

    public RecordingGit()
    {
        Command = System.IO.Path.Combine(_directory.Path, "git");
        File.WriteAllText(Command, $"#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{LogFile}'\nexec /usr/bin/git \"$@\"\n");
        File.SetUnixFileMode(Command, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>The wrapper to give the worker as <see cref="WorkerOptions.GitCommand"/>.</summary>
    public string Command { get; }

    private string LogFile => System.IO.Path.Combine(_directory.Path, "invocations");

    /// <summary>Every invocation so far, as its arguments joined by spaces.</summary>
    public IReadOnlyList<string> Invocations => File.Exists(LogFile) ? File.ReadAllLines(LogFile) : [];

    /// <summary>Mirror clones made (<c>git clone --mirror</c>).</summary>
    public int MirrorClones => Invocations.Count(i => i.StartsWith("clone --mirror", StringComparison.Ordinal));

    /// <summary>Fetches from the repository into a mirror (<c>git --git-dir=… fetch --prune origin</c>).</summary>
    public int MirrorFetches => Invocations.Count(i => i.StartsWith("--git-dir=", StringComparison.Ordinal) && i.Contains(" fetch --prune origin", StringComparison.Ordinal));

    public void Dispose() => _directory.Dispose();
}
