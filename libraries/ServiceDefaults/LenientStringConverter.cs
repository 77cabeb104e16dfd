using System.Text.Json;
using System.Text.Json.Serialization;

namespace BuildFarm.ServiceDefaults;

/// <summary>
/// Reads a JSON number or boolean where a message has a string, as its text. Messages from other
/// services then reach the validators (which name the bad field in a BuildRejected) instead of failing
/// to deserialize and faulting the consumer.
/// </summary>
public sealed class LenientStringConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Null => null,
        JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan),
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        _ => SkipAsNull(ref reader),
    };

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

    /// <summary>An object or array where a string belongs: skipped, read as missing (the validator names the field).</summary>
    private static string? SkipAsNull(ref Utf8JsonReader reader)
    {
        reader.Skip();
        return null;
    }
}
