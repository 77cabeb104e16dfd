using System.Text.RegularExpressions;

namespace BuildFarm.Domain;

/// <summary>Build server ids: lower-case letters, digits, '.', '_', '-'; "auto" lets the Scheduler choose.</summary>
public static partial class ServerIds
{
    public const string Auto = "auto";

    public static bool IsAutoOrValid(string value) =>
        string.Equals(value, Auto, StringComparison.OrdinalIgnoreCase) || IsValid(value);

    public static bool IsValid(string value) => Pattern().IsMatch(value);

    /// <summary>Null for "auto" or empty (any server), else the normalised id.</summary>
    public static string? Normalise(string? value) =>
        string.IsNullOrWhiteSpace(value) || string.Equals(value, Auto, StringComparison.OrdinalIgnoreCase)
            ? null
            : value.Trim().ToLowerInvariant();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
