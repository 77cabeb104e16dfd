using System.Reflection;

namespace BuildFarm.Persistence;

/// <summary>The assemblies whose embedded migrations <see cref="PostgresMigrationService"/> applies at start, in this order.</summary>
public sealed class PostgresMigrationOptions
{
    public IList<Assembly> Assemblies { get; } = [];
}
