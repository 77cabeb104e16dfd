namespace BuildFarm.Submission.Builds;

/// <summary>Filters of GET /api/v1/builds; every one optional. Newest first, <see cref="Limit"/> per page.</summary>
public sealed record BuildQuery(
    string? State, string? Architecture, string? Server, string? Repository, string? Submitter, string? Priority,
    DateTimeOffset? From, DateTimeOffset? To, BuildCursor? After, int Limit);

/// <summary>Where the previous page ended: the submission time and id of its last build.</summary>
public sealed record BuildCursor(DateTimeOffset SubmittedAt, Guid Id)
{
    public string Encode() => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{SubmittedAt.UtcTicks}:{Id:N}"))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryDecode(string? value, out BuildCursor? cursor)
    {
        cursor = null;
        if (string.IsNullOrEmpty(value))
        {
            return true;
        }
        try
        {
            var padded = value.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var parts = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(padded)).Split(':');
            if (parts.Length == 2 && long.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out var ticks)
                && Guid.TryParseExact(parts[1], "N", out var id))
            {
                cursor = new BuildCursor(new DateTimeOffset(ticks, TimeSpan.Zero), id);
                return true;
            }
        }
        catch (FormatException)
        {
        }
        return false;
    }
}
