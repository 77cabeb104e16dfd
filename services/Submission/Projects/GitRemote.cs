using System.ComponentModel;
using System.Diagnostics;
using BuildFarm.Domain;
using BuildFarm.Domain.Sources;
using Microsoft.Extensions.Options;

namespace BuildFarm.Submission.Projects;

/// <summary>
/// Reads a branch head from a remote repository with <c>git ls-remote -- URL refs/heads/BRANCH</c>: user values are
/// checked by <see cref="GitSource"/> first and passed as argv after <c>--</c>, never through a shell; git may use only
/// the transports the farm allows (GIT_ALLOW_PROTOCOL; file only when the <see cref="SourcePolicy"/> allows it), may
/// not prompt, and is killed after <see cref="ProjectsOptions.GitTimeout"/>.
/// </summary>
public sealed class GitRemote(SourcePolicy policy, IOptions<ProjectsOptions> options)
{
    private const int MaxErrorLength = 500;

    public async Task<BranchHead> ResolveBranchHeadAsync(string repository, string branch, CancellationToken ct)
    {
        if ((GitSource.RepositoryUrlError(repository, policy.AllowFileRepositories) ?? GitSource.BranchError(branch)) is { } invalid)
        {
            return BranchHead.Failed($"invalid source: {invalid}");
        }
        var reference = "refs/heads/" + branch;
        var start = new ProcessStartInfo(options.Value.GitExecutable)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in (string[])["ls-remote", "--", repository, reference])
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["GIT_ALLOW_PROTOCOL"] = GitSource.AllowedProtocolsFor(policy.AllowFileRepositories);
        start.Environment["GCM_INTERACTIVE"] = "never";
        start.Environment["GIT_ASKPASS"] = "/bin/false";
        start.Environment["SSH_ASKPASS"] = "/bin/false";
        start.Environment["LC_ALL"] = "C";
        if (Environment.GetEnvironmentVariable("GIT_SSH_COMMAND") is null)
        {
            start.Environment["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes";
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("git did not start");
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException)
        {
            return BranchHead.Failed($"git could not be started ({options.Value.GitExecutable}): {ex.Message}");
        }
        using (process)
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            timeout.CancelAfter(options.Value.GitTimeout);
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
                await Task.WhenAll(stdout, stderr);
            }
            catch (OperationCanceledException)
            {
                Kill(process);
                ct.ThrowIfCancellationRequested();
                return BranchHead.Failed($"git ls-remote {repository} did not answer within {options.Value.GitTimeout.TotalSeconds:0} s");
            }

            if (process.ExitCode != 0)
            {
                return BranchHead.Failed($"git ls-remote {repository} failed (exit code {process.ExitCode}): {Reason(await stderr)}");
            }
            foreach (var line in (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var fields = line.Split('\t');
                if (fields.Length == 2 && fields[1] == reference && IsCommitId(fields[0]))
                {
                    return BranchHead.Found(fields[0].ToLowerInvariant());
                }
            }
            return BranchHead.Failed($"branch {branch} does not exist in repository {repository}");
        }
    }

    private static bool IsCommitId(string value) =>
        value.Length is 40 or 64 && value.All(char.IsAsciiHexDigit);

    /// <summary>git's first "fatal:" or "error:" line (the cause; the hints follow it), else its last line.</summary>
    private static string Reason(string stderr)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = lines.FirstOrDefault(l => l.StartsWith("fatal:", StringComparison.Ordinal) || l.StartsWith("error:", StringComparison.Ordinal))
            ?? lines.LastOrDefault() ?? "no message";
        return line.Length > MaxErrorLength ? line[..MaxErrorLength] : line;
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // it has already exited
        }
    }
}
