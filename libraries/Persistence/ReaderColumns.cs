using System.Data;
using System.Data.Common;

namespace BuildFarm.Persistence;

/// <summary>Reading a row's nullable columns by name (with <see cref="DataReaderExtensions"/> for the others): never by position.</summary>
public static class ReaderColumns
{
    public static string? NullableString(this DbDataReader reader, string column)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var ordinal = reader.GetOrdinal(column);
        return reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
    }

    public static T? NullableValue<T>(this DbDataReader reader, string column)
        where T : struct
    {
        ArgumentNullException.ThrowIfNull(reader);
        var ordinal = reader.GetOrdinal(column);
        return reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<T>(ordinal);
    }
}
