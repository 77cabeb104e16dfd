using System.Text.Json.Nodes;

namespace BuildFarm.Settings.Apis;

/// <summary>The members a request body sets (camelCase name → checked value), or why it cannot be used.</summary>
internal sealed record SettingsPatch(IReadOnlyDictionary<string, JsonNode> Values, Dictionary<string, string[]> Errors)
{
    public bool IsValid => Errors.Count == 0;
}
