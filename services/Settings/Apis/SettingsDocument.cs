using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using BuildFarm.Contracts;
using BuildFarm.Settings.Storage;

namespace BuildFarm.Settings.Apis;

/// <summary>
/// Reads a JSON body of PUT (every member required) or of a JSON merge patch (RFC 7396; the members to change) into
/// typed values, refusing what is not an object, unknown, duplicate or null members and values of the wrong type.
/// The settings are flat, so merging a patch is replacing the members it names.
/// </summary>
internal static class SettingsDocument
{
    /// <summary>The key of errors about the body as a whole.</summary>
    public const string BodyKey = "$";

    private static readonly Dictionary<string, Type> Fields = typeof(FarmSettings)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .ToDictionary(p => FieldName(p.Name), p => p.PropertyType, StringComparer.Ordinal);

    public static string FieldName(string propertyName) => JsonNamingPolicy.CamelCase.ConvertName(propertyName);

    public static SettingsPatch Read(JsonElement body, bool requireAll)
    {
        var values = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors[BodyKey] = [$"The body must be a JSON object of settings, not {Describe(body.ValueKind)}."];
            return new SettingsPatch(values, errors);
        }
        foreach (var member in body.EnumerateObject())
        {
            if (!Fields.TryGetValue(member.Name, out var type))
            {
                errors[member.Name] = [$"{member.Name} is not a setting"];
            }
            else if (values.ContainsKey(member.Name) || errors.ContainsKey(member.Name))
            {
                errors[member.Name] = [$"{member.Name} appears more than once"];
                values.Remove(member.Name);
            }
            else if (Convert(member.Name, type, member.Value, out var error) is { } value)
            {
                values[member.Name] = value;
            }
            else
            {
                errors[member.Name] = [error];
            }
        }
        if (requireAll)
        {
            foreach (var missing in Fields.Keys.Where(f => !values.ContainsKey(f) && !errors.ContainsKey(f)))
            {
                errors[missing] = [$"{missing} is required"];
            }
        }
        return new SettingsPatch(values, errors);
    }

    /// <summary>The current settings with the members of <paramref name="patch"/> replaced.</summary>
    public static FarmSettings Apply(FarmSettings current, SettingsPatch patch)
    {
        var document = JsonSerializer.SerializeToNode(current, SettingsJson.Options)!.AsObject();
        foreach (var (name, value) in patch.Values)
        {
            document[name] = value.DeepClone();
        }
        return document.Deserialize<FarmSettings>(SettingsJson.Options)!;
    }

    private static JsonNode? Convert(string name, Type type, JsonElement value, out string error)
    {
        error = "";
        if (value.ValueKind == JsonValueKind.Null)
        {
            error = $"{name} must not be null (every setting has a value)";
            return null;
        }
        if (type == typeof(bool))
        {
            if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                return JsonValue.Create(value.GetBoolean());
            }
            error = $"{name} must be true or false";
            return null;
        }
        if (type == typeof(int))
        {
            if (value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var number) && number == decimal.Truncate(number))
            {
                // Out-of-range whole numbers are clamped so that the validator names the bound.
                return JsonValue.Create((int)Math.Clamp(number, int.MinValue, int.MaxValue));
            }
            error = $"{name} must be a whole number";
            return null;
        }
        if (type == typeof(string))
        {
            if (value.ValueKind == JsonValueKind.String)
            {
                return JsonValue.Create(value.GetString());
            }
            error = $"{name} must be a string";
            return null;
        }
        throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture, $"FarmSettings.{name} has the unsupported type {type}."));
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
