using System.Globalization;
using System.Text.Json;
using BuildFarm.Contracts;
using BuildFarm.ServiceDefaults.Auth;
using BuildFarm.Settings.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace BuildFarm.Settings.Apis;

/// <summary>
/// The settings record under /api/settings (and /api/settings/1/): GET for any role, PUT (every field) and PATCH
/// (JSON merge patch) for admins, with the revision as ETag and If-Match for optimistic concurrency; the audit trail
/// under /api/settings/history.
/// </summary>
internal static class SettingsApi
{
    public const string MergePatchJson = "application/merge-patch+json";
    private const string Json = "application/json";
    private const int DefaultHistoryLimit = 50;
    private const int MaxHistoryLimit = 200;

    public static RouteGroupBuilder MapSettingsEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/settings").WithTags("Settings")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        foreach (var path in new[] { "", "/1" })
        {
            var get = api.MapGet(path, GetSettings).RequireAuthorization(FarmPolicies.Viewer).Produces(StatusCodes.Status304NotModified);
            var put = api.MapPut(path, ReplaceSettings).RequireAuthorization(FarmPolicies.Admin)
                .Accepts<FarmSettings>(Json).ProducesValidationProblem()
                .ProducesProblem(StatusCodes.Status412PreconditionFailed).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
            var patch = api.MapPatch(path, PatchSettings).RequireAuthorization(FarmPolicies.Admin)
                .Accepts<FarmSettings>(MergePatchJson, Json).ProducesValidationProblem()
                .ProducesProblem(StatusCodes.Status412PreconditionFailed).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
            if (path.Length == 0)
            {
                get.WithName("GetSettings");
                put.WithName("ReplaceSettings");
                patch.WithName("PatchSettings");
            }
        }
        api.MapGet("/history", GetHistory).RequireAuthorization(FarmPolicies.Viewer).WithName("GetSettingsHistory").ProducesValidationProblem();
        return api;
    }

    public static async Task<Results<Ok<FarmSettings>, StatusCodeHttpResult, ProblemHttpResult>> GetSettings(
        HttpContext http, SettingsStore store, CancellationToken ct)
    {
        if (!EntityTagCondition.TryRead(http.Request.Headers, HeaderNames.IfNoneMatch, out var ifNoneMatch))
        {
            return BadEntityTag(HeaderNames.IfNoneMatch);
        }
        var current = await store.GetAsync(ct);
        http.Response.Headers.ETag = current.ETag;
        return ifNoneMatch.MatchesForRead(current.ETag)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(current.Settings);
    }

    public static Task<Results<Ok<FarmSettings>, ValidationProblem, ProblemHttpResult>> ReplaceSettings(
        HttpContext http, SettingsWriter writer, CancellationToken ct) =>
        WriteAsync(http, replace: true, writer, ct);

    public static Task<Results<Ok<FarmSettings>, ValidationProblem, ProblemHttpResult>> PatchSettings(
        HttpContext http, SettingsWriter writer, CancellationToken ct) =>
        WriteAsync(http, replace: false, writer, ct);

    public static async Task<Results<Ok<SettingsHistoryPage>, ValidationProblem>> GetHistory(
        int? limit, string? cursor, SettingsStore store, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (limit is < 1 or > MaxHistoryLimit)
        {
            errors["limit"] = [$"limit must be between 1 and {MaxHistoryLimit}"];
        }
        long? before = null;
        if (cursor is not null)
        {
            if (long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
            {
                before = id;
            }
            else
            {
                errors["cursor"] = ["cursor must be the nextCursor of a previous page"];
            }
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The history query is not valid.");
        }
        return TypedResults.Ok(await store.ListHistoryAsync(limit ?? DefaultHistoryLimit, before, ct));
    }

    private static async Task<Results<Ok<FarmSettings>, ValidationProblem, ProblemHttpResult>> WriteAsync(
        HttpContext http, bool replace, SettingsWriter writer, CancellationToken ct)
    {
        var request = http.Request;
        if (!AcceptsContentType(request, replace))
        {
            if (!replace)
            {
                http.Response.Headers["Accept-Patch"] = $"{MergePatchJson}, {Json}";
            }
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported content type.",
                detail: replace
                    ? $"PUT takes the whole settings record as {Json}; got '{request.ContentType}'."
                    : $"PATCH takes a JSON merge patch ({MergePatchJson} or {Json}); got '{request.ContentType}'.");
        }
        if (!EntityTagCondition.TryRead(request.Headers, HeaderNames.IfMatch, out var ifMatch))
        {
            return BadEntityTag(HeaderNames.IfMatch);
        }
        JsonElement body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<JsonElement>(request.Body, SettingsJson.Options, ct);
        }
        catch (JsonException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The request could not be read.",
                detail: $"The body is not valid JSON: {ex.Message}");
        }

        var patch = SettingsDocument.Read(body, requireAll: replace);
        if (!patch.IsValid)
        {
            return TypedResults.ValidationProblem(patch.Errors, title: "The settings are not valid.");
        }
        var who = http.User.Identity?.Name ?? "unknown";
        var result = await writer.WriteAsync(current => ifMatch.AllowsWrite(current.ETag), current => SettingsDocument.Apply(current, patch), who, ct);
        switch (result)
        {
            case SettingsWriteResult.Written written:
                http.Response.Headers.ETag = written.Settings.ETag;
                return TypedResults.Ok(written.Settings.Settings);
            case SettingsWriteResult.Invalid invalid:
                return TypedResults.ValidationProblem(invalid.Errors, title: "The settings are not valid.");
            case SettingsWriteResult.Stale stale:
                http.Response.Headers.ETag = stale.Current.ETag;
                return TypedResults.Problem(statusCode: StatusCodes.Status412PreconditionFailed, title: "The settings changed since you read them.",
                    detail: $"If-Match {request.Headers.IfMatch} does not match the current revision {stale.Current.ETag}; read them again and reapply your change.");
            default:
                throw new InvalidOperationException($"Unknown write result {result}.");
        }
    }

    private static bool AcceptsContentType(HttpRequest request, bool replace)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type))
        {
            return false;
        }
        var mediaType = type.MediaType.Value;
        return string.Equals(mediaType, Json, StringComparison.OrdinalIgnoreCase)
            || (!replace && string.Equals(mediaType, MergePatchJson, StringComparison.OrdinalIgnoreCase));
    }

    private static ProblemHttpResult BadEntityTag(string header) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: $"The {header} header could not be read.",
            detail: $"{header} must be * or a list of quoted entity tags, e.g. \"7\" (the ETag of a previous response).");
}
