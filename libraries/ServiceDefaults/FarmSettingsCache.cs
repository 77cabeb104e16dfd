using BuildFarm.Contracts;

namespace BuildFarm.ServiceDefaults;

/// <summary>
/// The farm's settings as this process knows them, the one place every service reads them from: defaults until the
/// Settings service's answer (<see cref="FarmSettingsBootstrap"/>) or a <see cref="SettingsChanged"/> broadcast
/// (<see cref="ApplySettingsConsumer"/>) arrives, then always the newest revision.
/// </summary>
public sealed class FarmSettingsCache
{
    private readonly Lock gate = new();
    private (FarmSettings Settings, long Revision, bool Received) current = (new FarmSettings(), 0, false);

    public FarmSettings Current
    {
        get { lock (gate) { return current.Settings; } }
    }

    public long Revision
    {
        get { lock (gate) { return current.Revision; } }
    }

    /// <summary>False while <see cref="Current"/> holds the defaults: nothing was applied yet.</summary>
    public bool HasReceived
    {
        get { lock (gate) { return current.Received; } }
    }

    /// <summary>Raised after a newer revision was applied, with the settings and their revision.</summary>
    public event Action<FarmSettings, long>? Changed;

    /// <summary>Applies <paramref name="settings"/> unless a newer revision is already known. True if applied.</summary>
    public bool Apply(FarmSettings settings, long revision)
    {
        ArgumentNullException.ThrowIfNull(settings);
        lock (gate)
        {
            if (current.Received && revision < current.Revision)
            {
                return false;
            }
            current = (settings, revision, true);
        }
        Changed?.Invoke(settings, revision);
        return true;
    }
}
