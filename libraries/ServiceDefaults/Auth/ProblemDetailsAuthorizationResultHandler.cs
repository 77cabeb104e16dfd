using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.IdentityModel.Tokens;

namespace BuildFarm.ServiceDefaults.Auth;

/// <summary>
/// Answers a refused request as the authentication scheme would (401 with WWW-Authenticate, or 403) and adds an
/// RFC 9457 problem details body that says why.
/// </summary>
internal sealed class ProblemDetailsAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Challenged)
        {
            await ForEachScheme(policy, scheme => context.ChallengeAsync(scheme));
            await WriteAsync(context, StatusCodes.Status401Unauthorized, "Authentication required.", WhyUnauthenticated(context));
        }
        else if (authorizeResult.Forbidden)
        {
            await ForEachScheme(policy, scheme => context.ForbidAsync(scheme));
            await WriteAsync(context, StatusCodes.Status403Forbidden, "Permission denied.", WhyForbidden(context, policy));
        }
        else
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
        }
    }

    private static async Task ForEachScheme(AuthorizationPolicy policy, Func<string?, Task> action)
    {
        if (policy.AuthenticationSchemes.Count == 0)
        {
            await action(null);
            return;
        }
        foreach (var scheme in policy.AuthenticationSchemes)
        {
            await action(scheme);
        }
    }

    private static string WhyUnauthenticated(HttpContext context)
    {
        var failure = context.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult?.Failure;
        return failure switch
        {
            null => "This endpoint needs a bearer token (Authorization: Bearer ...); get one with ./farm token --role ROLE.",
            SecurityTokenExpiredException => "The bearer token has expired.",
            SecurityTokenNotYetValidException => "The bearer token is not valid yet.",
            SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException =>
                "The bearer token's signature does not match this farm's signing key.",
            SecurityTokenInvalidIssuerException => "The bearer token was issued by someone else than this farm.",
            SecurityTokenInvalidAudienceException => "The bearer token is meant for another audience.",
            SecurityTokenInvalidAlgorithmException => "The bearer token must be signed with HS256.",
            _ => "The bearer token is not valid.",
        };
    }

    private static string WhyForbidden(HttpContext context, AuthorizationPolicy policy)
    {
        var needed = policy.Requirements.OfType<RolesAuthorizationRequirement>().SelectMany(r => r.AllowedRoles).Distinct().ToList();
        var held = context.User.FindAll(FarmAuthenticationExtensions.RoleClaimType).Select(c => c.Value).ToList();
        var has = held.Count == 0 ? "no role" : "the role " + string.Join(", ", held);
        return needed.Count == 0
            ? $"Your token ({has}) does not allow this."
            : $"This needs the role {string.Join(" or ", needed)}; your token has {has}.";
    }

    private static async Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        if (context.Response.HasStarted)
        {
            return;
        }
        context.Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail, Instance = context.Request.Path };
        var problems = context.RequestServices.GetService(typeof(IProblemDetailsService)) as IProblemDetailsService;
        if (problems is null || !await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }))
        {
            await context.Response.WriteAsJsonAsync(problem, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json");
        }
    }
}
