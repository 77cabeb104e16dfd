using System.Globalization;
using BuildFarm.Semaphore;
using BuildFarm.ServiceDefaults.Auth;
using BuildFarm.Settings.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BuildFarm.Settings.Apis;

/// <summary>
/// The build slots under /api/settings/build_status: who holds and who waits (any role), and the admin actions
/// force-release (one build's slots) and clear (every slot and waiter), both kept in the settings' audit trail.
/// </summary>
internal static class BuildStatusApi
{
    public static RouteGroupBuilder MapBuildStatusEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/settings/build_status").WithTags("Build slots")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapGet("", GetStatus).RequireAuthorization(FarmPolicies.Viewer).WithName("GetBuildStatus");
        api.MapPost("/release/{buildId}", Release).RequireAuthorization(FarmPolicies.Admin).WithName("ReleaseBuildSlot")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/clear", Clear).RequireAuthorization(FarmPolicies.Admin).WithName("ClearBuildSlots");
        return api;
    }

    public static async Task<Ok<BuildStatusResponse>> GetStatus(IFarmSemaphoreAdmin semaphore, SettingsStore store, CancellationToken ct)
    {
        var holders = await semaphore.GetHoldersAsync();
        var waiters = await semaphore.GetWaitersAsync();
        var limit = await semaphore.GetLimitAsync();
        var settings = (await store.GetAsync(ct)).Settings;
        return TypedResults.Ok(new BuildStatusResponse(
            holders.Count,
            limit,
            settings.ConcurrencyMode,
            settings.MinConcurrentBuilds,
            settings.MaxConcurrentBuilds,
            [.. holders.Select(h =>
            {
                var (buildId, attempt) = Parse(h.HolderId);
                return new SlotHolderResponse(buildId, h.HolderId, attempt, h.WorkerId, h.Since, h.LeaseExpiresAt, h.FencingToken);
            })],
            [.. waiters.Select(w => new SlotWaiterResponse(w.Position, w.Priority, w.Since, Parse(w.HolderId).BuildId, w.HolderId, w.WorkerId))]));
    }

    public static async Task<Results<Ok<ReleaseSlotResponse>, ProblemHttpResult>> Release(
        string buildId, IFarmSemaphoreAdmin semaphore, SettingsStore store, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var released = new List<string>();
        foreach (var holder in await semaphore.GetHoldersAsync())
        {
            if (BelongsTo(holder.HolderId, buildId) && await semaphore.ForceReleaseAsync(holder.HolderId))
            {
                released.Add(holder.HolderId);
            }
        }
        if (released.Count == 0)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "The build holds no slot.",
                detail: $"No attempt of build {buildId} holds a build slot now.");
        }
        var response = new ReleaseSlotResponse(buildId, released);
        await store.RecordActionAsync("release", Who(http), time.GetUtcNow(), response, ct);
        return TypedResults.Ok(response);
    }

    public static async Task<Ok<ClearSlotsResponse>> Clear(IFarmSemaphoreAdmin semaphore, SettingsStore store, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var holders = await semaphore.GetHoldersAsync();
        var waiters = await semaphore.GetWaitersAsync();
        await semaphore.ClearAsync();
        var response = new ClearSlotsResponse([.. holders.Select(h => h.HolderId)], waiters.Count);
        await store.RecordActionAsync("clear", Who(http), time.GetUtcNow(), response, ct);
        return TypedResults.Ok(response);
    }

    /// <summary>"{buildId}:{attempt}" → (buildId, attempt); any other holder id is its own build id.</summary>
    internal static (string BuildId, int? Attempt) Parse(string holderId)
    {
        var colon = holderId.LastIndexOf(':');
        return colon > 0 && int.TryParse(holderId.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var attempt)
            ? (holderId[..colon], attempt)
            : (holderId, null);
    }

    private static bool BelongsTo(string holderId, string buildId) =>
        string.Equals(holderId, buildId, StringComparison.OrdinalIgnoreCase)
        || string.Equals(Parse(holderId).BuildId, buildId, StringComparison.OrdinalIgnoreCase);

    private static string Who(HttpContext http) => http.User.Identity?.Name ?? "unknown";
}
