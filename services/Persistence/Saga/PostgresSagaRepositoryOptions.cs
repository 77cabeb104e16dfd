using System.Text.Json;
using System.Text.Json.Serialization;

namespace BuildFarm.Persistence.Saga;

/// <summary>How <see cref="PostgresSagaRepositoryContextFactory{TSaga}"/> stores one saga type.</summary>
public sealed class PostgresSagaRepositoryOptions
{
    /// <summary>
    /// The JSON of the <c>data</c> column: System.Text.Json with property names as declared (PascalCase), enums as
    /// strings, no indentation, public properties with a getter and setter (or an init accessor / constructor
    /// parameter). <c>CorrelationId</c>, <c>CurrentState</c> and <c>Version</c> are in the JSON too, but the row's
    /// own columns are what queries and concurrency use: on load, <c>Version</c> is taken from the column.
    /// </summary>
    public static JsonSerializerOptions DefaultJsonOptions { get; } = new(JsonSerializerDefaults.General)
    {
        PropertyNamingPolicy = null,
        WriteIndented = false,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The table (optionally schema-qualified, e.g. <c>scheduler.build_state</c>), created by the caller's migration.</summary>
    public required string TableName { get; init; }

    public JsonSerializerOptions JsonOptions { get; set; } = DefaultJsonOptions;

    /// <summary>
    /// Lock the row when a message loads an instance (<c>SELECT … FOR UPDATE</c>), so concurrent messages for one
    /// instance queue on the row lock instead of failing the version check and being retried. The version check
    /// stays either way. Default true; false gives pure optimistic concurrency.
    /// </summary>
    public bool LockOnLoad { get; set; } = true;
}
