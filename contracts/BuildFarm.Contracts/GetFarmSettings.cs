namespace BuildFarm.Contracts;

/// <summary>Asks the Settings service for the farm's settings; the answer is a <see cref="SettingsChanged"/> with the stored revision.</summary>
public sealed record GetFarmSettings;
