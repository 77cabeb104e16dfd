using System.Diagnostics;
using BuildFarm.ServiceDefaults;

namespace BuildFarm.Worker;

/// <summary>The worker's spans: one per build phase (slot, checkout, build, artifacts).</summary>
internal static class WorkerTelemetry
{
    public static readonly ActivitySource Source = new(Extensions.TelemetryName);
}
