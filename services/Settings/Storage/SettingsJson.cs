using System.Text.Json;
using BuildFarm.Contracts;

namespace BuildFarm.Settings.Storage;

/// <summary>The one JSON shape of the settings, in the database and over HTTP: camelCase members.</summary>
internal static class SettingsJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static FarmSettings Deserialize(string json) =>
        JsonSerializer.Deserialize<FarmSettings>(json, Options) ?? throw new InvalidDataException("The stored settings are null.");

    /// <summary>The camelCase names of the members whose values differ.</summary>
    public static IReadOnlyList<string> ChangedFields(FarmSettings before, FarmSettings after)
    {
        var old = JsonSerializer.SerializeToElement(before, Options);
        var now = JsonSerializer.SerializeToElement(after, Options);
        return [.. now.EnumerateObject()
            .Where(p => !old.TryGetProperty(p.Name, out var was) || !JsonElement.DeepEquals(was, p.Value))
            .Select(p => p.Name)];
    }
}
