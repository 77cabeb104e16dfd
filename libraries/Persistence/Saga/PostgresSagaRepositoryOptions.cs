using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using MassTransit;
using NpgsqlTypes;

namespace BuildFarm.Persistence.Saga;

/// <summary>The JSON of a saga table's <c>data</c> column.</summary>
public static class PostgresSagaJson
{
    /// <summary>
    /// System.Text.Json with property names as declared (PascalCase), enums as strings, no indentation, public properties
    /// with a getter and setter (or an init accessor / constructor parameter). <c>CorrelationId</c>, <c>CurrentState</c>
    /// and <c>Version</c> are in the JSON too, but the row's own columns are what queries and concurrency use: on load,
    /// <c>Version</c> is taken from the column.
    /// </summary>
    public static JsonSerializerOptions Default { get; } = new(JsonSerializerDefaults.General)
    {
        PropertyNamingPolicy = null,
        WriteIndented = false,
        Converters = { new JsonStringEnumConverter() },
    };
}

/// <summary>How <see cref="PostgresSagaRepositoryContextFactory{TSaga}"/> stores one saga type.</summary>
public sealed partial class PostgresSagaRepositoryOptions<TSaga>
    where TSaga : class, ISagaVersion
{
    private static readonly HashSet<string> RowColumns = ["correlation_id", "current_state", "version", "data", "created_at", "updated_at"];
    private readonly List<PostgresSagaColumn<TSaga>> _columns = [];

    /// <summary>The table (optionally schema-qualified, e.g. <c>scheduler.build_state</c>), created by the caller's migration.</summary>
    public required string TableName { get; init; }

    public JsonSerializerOptions JsonOptions { get; set; } = PostgresSagaJson.Default;

    /// <summary>
    /// Lock the row when a message loads an instance (<c>SELECT … FOR UPDATE</c>), so concurrent messages for one
    /// instance queue on the row lock instead of failing the version check and being retried. The version check
    /// stays either way. Default true; false gives pure optimistic concurrency.
    /// </summary>
    public bool LockOnLoad { get; set; } = true;

    /// <summary>The typed columns written beside <c>data</c>, in the order they were added.</summary>
    public IReadOnlyList<PostgresSagaColumn<TSaga>> Columns => _columns;

    /// <summary>
    /// Writes <paramref name="value"/> of each instance into the column <paramref name="name"/> of its row on every insert
    /// and update, in the same statement as <c>data</c>: what other code queries becomes a typed column it can index,
    /// instead of a path into the JSON that a renamed property silently breaks. The column is created by the caller's
    /// migration; null is written as SQL NULL, and a <see cref="DateTimeOffset"/> in UTC.
    /// </summary>
    public PostgresSagaRepositoryOptions<TSaga> Column<TValue>(string name, NpgsqlDbType type, Func<TSaga, TValue> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (string.IsNullOrEmpty(name) || !ColumnNamePattern().IsMatch(name) || RowColumns.Contains(name))
        {
            throw new ArgumentException($"'{name}' is not a column the saga repository can write (a plain lower-case name, not one of {string.Join(", ", RowColumns)}).", nameof(name));
        }
        if (_columns.Any(c => c.Name == name))
        {
            throw new ArgumentException($"Column '{name}' is configured twice.", nameof(name));
        }
        _columns.Add(new PostgresSagaColumn<TSaga>(name, type, instance => value(instance) switch
        {
            null => DBNull.Value,
            DateTimeOffset at => at.ToUniversalTime(),
            var other => other,
        }));
        return this;
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]*$")]
    private static partial Regex ColumnNamePattern();
}

/// <summary>One typed column of a saga table, written from each instance (see <see cref="PostgresSagaRepositoryOptions{TSaga}.Column"/>).</summary>
public sealed record PostgresSagaColumn<TSaga>(string Name, NpgsqlDbType Type, Func<TSaga, object> Value);
