namespace BuildFarm.Settings.Storage;

/// <summary>What became of a write of the settings.</summary>
public abstract record SettingsWriteResult
{
    private SettingsWriteResult()
    {
    }

    /// <summary>Stored (or already equal: <paramref name="Changed"/> false, nothing written or published).</summary>
    public sealed record Written(StoredSettings Settings, bool Changed) : SettingsWriteResult;

    /// <summary>The new values break a rule: field name → messages.</summary>
    public sealed record Invalid(IDictionary<string, string[]> Errors) : SettingsWriteResult;

    /// <summary>If-Match named another revision than <paramref name="Current"/>'s; nothing changed.</summary>
    public sealed record Stale(StoredSettings Current) : SettingsWriteResult;
}
