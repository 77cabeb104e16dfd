using Microsoft.Net.Http.Headers;

namespace BuildFarm.Settings.Apis;

/// <summary>An If-Match / If-None-Match header: the entity tags it lists (null when the header is absent).</summary>
internal sealed record EntityTagCondition(IList<EntityTagHeaderValue>? Tags)
{
    public bool IsPresent => Tags is not null;

    /// <summary>Reads the header; false when it is present but not a list of quoted entity tags.</summary>
    public static bool TryRead(IHeaderDictionary headers, string name, out EntityTagCondition condition)
    {
        var raw = headers[name];
        if (raw.Count == 0)
        {
            condition = new EntityTagCondition((IList<EntityTagHeaderValue>?)null);
            return true;
        }
        var ok = EntityTagHeaderValue.TryParseStrictList(raw, out var tags) && tags is { Count: > 0 };
        condition = new EntityTagCondition(ok ? tags : null);
        return ok;
    }

    /// <summary>If-Match: absent, <c>*</c>, or one tag equal to <paramref name="etag"/> by strong comparison.</summary>
    public bool AllowsWrite(string etag) =>
        Tags is null || Tags.Any(t => t == EntityTagHeaderValue.Any || t.Compare(new EntityTagHeaderValue(etag), useStrongComparison: true));

    /// <summary>If-None-Match: <c>*</c> or one tag equal to <paramref name="etag"/> by weak comparison.</summary>
    public bool MatchesForRead(string etag) =>
        Tags is not null && Tags.Any(t => t == EntityTagHeaderValue.Any || t.Compare(new EntityTagHeaderValue(etag), useStrongComparison: false));
}
