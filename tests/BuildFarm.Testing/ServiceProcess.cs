using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BuildFarm.Testing;

/// <summary>One of the farm's services running as a real process from its build output.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();
    private StreamWriter? file;

    private ServiceProcess(string name, Uri url, Process process)
    {
        Name = name;
        Url = url;
        this.process = process;
    }

    public string Name { get; }
    public Uri Url { get; }
    public int Pid => process.Id;

    /// <summary>The last lines the process printed, for failure messages.</summary>
    public string Tail
    {
        get
        {
            lock (output)
            {
                var text = output.ToString();
                return text.Length <= 6000 ? text : text[^6000..];
            }
        }
    }

    public static async Task<ServiceProcess> StartAsync(string name, IReadOnlyDictionary<string, string> environment)
    {
        var dll = Path.Combine(Repository.Root, "services", name, "bin", Repository.Configuration, "net10.0", $"BuildFarm.{name}.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: build the solution first (./farm test does).");
        }
        var url = new Uri($"http://127.0.0.1:{LoopbackPorts.Free()}");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
        start.Environment["ASPNETCORE_URLS"] = url.ToString();
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["Logging__LogLevel__Default"] = "Information";
        start.Environment["Logging__Console__TimestampFormat"] = "HH:mm:ss.fff ";
        start.Environment["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        var process = Process.Start(start)!;
        var service = new ServiceProcess(name, url, process);
        // BUILDFARM_TEST_SERVICE_LOGS=DIR keeps each service's whole output in DIR/NAME-PID.log, for debugging.
        if (Environment.GetEnvironmentVariable("BUILDFARM_TEST_SERVICE_LOGS") is { Length: > 0 } logs)
        {
            Directory.CreateDirectory(logs);
            service.file = new StreamWriter(Path.Combine(logs, $"{name.ToLowerInvariant()}-{process.Id}.log")) { AutoFlush = true };
        }
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await service.WaitReadyAsync();
        return service;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (output)
        {
            output.AppendLine(line);
            file?.WriteLine(line);
        }
    }

    private async Task WaitReadyAsync()
    {
        using var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {process.ExitCode}:\n{Tail}");
            }
            try
            {
                if ((await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        throw new InvalidOperationException($"{Name} did not become ready within 90 s:\n{Tail}");
    }

    /// <summary>Kills the process at once, as kill -9 would: no shutdown, no cleanup.</summary>
    public async Task KillAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: false);
            await process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        lock (output)
        {
            file?.Dispose();
            file = null;
        }
    }
}
