using System.Diagnostics.Metrics;

namespace BuildFarm.Semaphore;

/// <summary>The semaphore's instruments on the farm's meter ("BuildFarm"), counted for this process.</summary>
internal sealed class SemaphoreMetrics : IDisposable
{
    public const string MeterName = "BuildFarm";

    private readonly Meter? _ownedMeter;

    public SemaphoreMetrics(IMeterFactory? meterFactory)
    {
        Meter meter;
        if (meterFactory is null)
        {
            meter = _ownedMeter = new Meter(MeterName);
        }
        else
        {
            meter = meterFactory.Create(MeterName);
        }
        Holders = meter.CreateUpDownCounter<long>("buildfarm.semaphore.holders", "{lease}",
            "Build slots held by this process.");
        Waiters = meter.CreateUpDownCounter<long>("buildfarm.semaphore.waiters", "{waiter}",
            "Requests of this process waiting for a build slot.");
        GrantWait = meter.CreateHistogram<double>("buildfarm.semaphore.grant_wait", "s",
            "Time from asking for a build slot to holding it.");
        LeasesLost = meter.CreateCounter<long>("buildfarm.semaphore.leases_lost", "{lease}",
            "Leases lost while held (expired, released by an admin, renewal refused).");
        LeasesReclaimed = meter.CreateCounter<long>("buildfarm.semaphore.leases_reclaimed", "{lease}",
            "Leases that Redis lost with its data and that re-claimed their slot.");
    }

    public UpDownCounter<long> Holders { get; }

    public UpDownCounter<long> Waiters { get; }

    public Histogram<double> GrantWait { get; }

    public Counter<long> LeasesLost { get; }

    public Counter<long> LeasesReclaimed { get; }

    public void Dispose() => _ownedMeter?.Dispose();
}
