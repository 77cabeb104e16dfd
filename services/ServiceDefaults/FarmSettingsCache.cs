using BuildFarm.Contracts;

namespace BuildFarm.ServiceDefaults;

/// <summary>
/// The farm's settings as this process knows them: defaults until the Settings service's answer or
/// a <see cref="SettingsChanged"/> broadcast arrives, then always the newest revision.
/// </summary>
public sealed class FarmSettingsCache
{
    private readonly Lock gate = new();
    private (FarmSettings Settings, long Revision) current = (new FarmSettings(), 0);

    public FarmSettings Current
    {
        get { lock (gate) { return current.Settings; } }
    }

    public long Revision
    {
        get { lock (gate) { return current.Revision; } }
    }

    /// <summary>Raised after a newer revision was applied.</summary>
    public event Action<FarmSettings>? Changed;

    /// <summary>Applies <paramref name="settings"/> unless a newer revision is already known. True if applied.</summary>
    public bool Apply(FarmSettings settings, long revision)
    {
        lock (gate)
        {
            if (revision < current.Revision)
            {
                return false;
            }
            current = (settings, revision);
        }
        Changed?.Invoke(settings);
        return true;
    }
}
