using System.Diagnostics;
using System.Runtime.InteropServices;

namespace BuildFarm.Worker.Builds;

/// <summary>
/// Runs one command without a shell, in a process group of its own (through util-linux <c>setsid</c>, as
/// argv), so that stopping it reaches every process it started: SIGTERM to the group, a grace period,
/// then SIGKILL to the group. Output is handed to readers as raw streams; nothing is buffered here.
/// The command dies with the Worker, even a Worker killed with SIGKILL: util-linux <c>setpriv --pdeathsig KILL</c>
/// sets its parent-death signal before it is executed (a sandboxed command sets its own again after it changed
/// user, which clears it). What it started itself is reached by the next Worker's sweep: each group started
/// while an attempt runs is reported to <see cref="Observer"/>, which the attempt's record keeps.
/// </summary>
internal static partial class ChildProcess
{
    private const int SigKill = 9;
    private const int SigTerm = 15;
    private const string Setsid = "setsid";

    private static readonly string? Setpriv = Executables.Find("setpriv");

    /// <summary>Told the process group id of each command started in this async flow (an attempt's record).</summary>
    public static readonly AsyncLocal<Action<int>?> Observer = new();

    /// <summary>
    /// Starts <paramref name="command"/> and waits for it. When <paramref name="stop"/> fires, the group gets
    /// SIGTERM, then SIGKILL after <paramref name="grace"/>. Leftover processes of the group are killed when
    /// the command exits.
    /// </summary>
    public static async Task<ProcessExit> RunAsync(
        CommandLine command,
        Func<Stream, Task> readStdout,
        Func<Stream, Task> readStderr,
        TimeSpan grace,
        CancellationToken stop)
    {
        var start = new ProcessStartInfo(Setsid)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = command.WorkingDirectory,
        };
        if (Setpriv is not null)
        {
            start.ArgumentList.Add(Setpriv);
            start.ArgumentList.Add("--pdeathsig");
            start.ArgumentList.Add("KILL");
            start.ArgumentList.Add("--");
        }
        start.ArgumentList.Add(command.FileName);
        foreach (var argument in command.Arguments)
        {
            start.ArgumentList.Add(argument);
        }
        // Nothing of the Worker's own environment is inherited: only what the command line names.
        start.Environment.Clear();
        foreach (var (name, value) in command.Environment)
        {
            start.Environment[name] = value;
        }

        using var process = new Process { StartInfo = start };
        await Launcher.StartAsync(process).ConfigureAwait(false);
        var groupId = process.Id; // setsid makes the child a session and group leader: pgid == pid
        Observer.Value?.Invoke(groupId);
        process.StandardInput.Close();

        var readers = Task.WhenAll(
            Task.Run(() => readStdout(process.StandardOutput.BaseStream), CancellationToken.None),
            Task.Run(() => readStderr(process.StandardError.BaseStream), CancellationToken.None));
        var exited = process.WaitForExitAsync(CancellationToken.None);

        Task? terminating = null;
        await using (stop.Register(() => terminating = TerminateAsync(groupId, process.Id, exited, grace)))
        {
            await exited.ConfigureAwait(false);
        }
        if (terminating is not null)
        {
            await terminating.ConfigureAwait(false);
        }
        // Whatever the command left behind in its group goes with it (and lets the pipes close).
        Signal(groupId, process.Id, SigKill);
        var closed = false;
        if (await Task.WhenAny(readers, Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None)).ConfigureAwait(false) != readers)
        {
            // A descendant escaped the group and holds the pipes open: stop reading.
            process.StandardOutput.Close();
            process.StandardError.Close();
            closed = true;
        }
        try
        {
            await readers.ConfigureAwait(false);
        }
        catch (Exception) when (closed)
        {
            // reading a pipe we closed ourselves
        }
        return new ProcessExit(process.ExitCode, stop.IsCancellationRequested);
    }

    /// <summary>
    /// Starts processes from one thread that lives as long as the Worker. A parent-death signal
    /// (<c>bwrap --die-with-parent</c>, <c>setpriv --pdeathsig</c>) fires when the thread that forked the child ends,
    /// not the process: a thread-pool thread retired while a build runs would kill the build.
    /// </summary>
    private static class Launcher
    {
        private static readonly System.Collections.Concurrent.BlockingCollection<(Process Process, TaskCompletionSource Started)> Pending = [];

        static Launcher()
        {
            var thread = new Thread(Run) { IsBackground = true, Name = "build process launcher" };
            thread.Start();
        }

        public static Task StartAsync(Process process)
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Pending.Add((process, started));
            return started.Task;
        }

        private static void Run()
        {
            foreach (var (process, started) in Pending.GetConsumingEnumerable())
            {
                try
                {
                    process.Start();
                    started.SetResult();
                }
                catch (Exception ex)
                {
                    started.SetException(ex);
                }
            }
        }
    }

    /// <summary>True while any process of the group lives.</summary>
    public static bool GroupAlive(int groupId) => kill(-groupId, 0) == 0;

    private static async Task TerminateAsync(int groupId, int processId, Task exited, TimeSpan grace)
    {
        Signal(groupId, processId, SigTerm);
        var deadline = DateTime.UtcNow + grace;
        while (DateTime.UtcNow < deadline)
        {
            if (exited.IsCompleted && !GroupAlive(groupId))
            {
                return;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None).ConfigureAwait(false);
        }
        Signal(groupId, processId, SigKill);
    }

    private static void Signal(int groupId, int processId, int signal)
    {
        if (kill(-groupId, signal) != 0)
        {
            // the child may not have called setsid yet: reach it directly
            _ = kill(processId, signal);
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}

/// <summary>A command to run: an executable and its argv, never a shell line.</summary>
internal sealed record CommandLine(
    string FileName,
    IReadOnlyList<string> Arguments,
    string WorkingDirectory,
    IReadOnlyDictionary<string, string?> Environment)
{
    public override string ToString() => string.Join(' ', Arguments.Prepend(FileName).Select(a => a.Contains(' ') ? $"'{a}'" : a));
}

/// <summary>How a command ended: its exit code (128 + n when killed by signal n) and whether it was stopped.</summary>
internal sealed record ProcessExit(int ExitCode, bool Stopped);
