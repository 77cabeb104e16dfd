namespace BuildFarm.Contracts;

/// <summary>A file a build produced, kept in the content-addressed artifact store.</summary>
public sealed record Artifact(string Name, long Size, string Sha256, string Kind);
