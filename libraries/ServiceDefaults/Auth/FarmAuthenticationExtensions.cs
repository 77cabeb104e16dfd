using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace BuildFarm.ServiceDefaults.Auth;

public static class FarmAuthenticationExtensions
{
    /// <summary>The claim that names the user (<c>./farm token --user</c>).</summary>
    public const string NameClaimType = "sub";

    /// <summary>The claim that carries the role: viewer, submitter or admin.</summary>
    public const string RoleClaimType = "role";

    /// <summary>
    /// JWT bearer authentication (HS256, key <c>Auth:SigningKey</c>, issuer <c>Auth:Issuer</c>, audience <c>Auth:Audience</c>,
    /// all checked at start) and the policies of <see cref="FarmPolicies"/>. A request without a valid token gets 401,
    /// one whose role is not enough 403, both as RFC 9457 problem details. Protect endpoints with
    /// <c>RequireAuthorization(FarmPolicies.Viewer)</c>; a WebApplication adds the middleware by itself, or call
    /// <c>app.UseAuthentication(); app.UseAuthorization();</c> after <c>UseExceptionHandler()</c>.
    /// </summary>
    public static TBuilder AddFarmAuthentication<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<FarmAuthOptions>()
            .BindConfiguration(FarmAuthOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<FarmAuthOptions>>((jwt, farm) => Configure(jwt, farm.Value));

        services.AddAuthorizationBuilder()
            .AddPolicy(FarmPolicies.Viewer, p => p.RequireRole(FarmRoles.Viewer, FarmRoles.Submitter, FarmRoles.Admin))
            .AddPolicy(FarmPolicies.Submitter, p => p.RequireRole(FarmRoles.Submitter, FarmRoles.Admin))
            .AddPolicy(FarmPolicies.Admin, p => p.RequireRole(FarmRoles.Admin));

        services.AddProblemDetails();
        services.Replace(ServiceDescriptor.Singleton<IAuthorizationMiddlewareResultHandler, ProblemDetailsAuthorizationResultHandler>());
        return builder;
    }

    /// <summary>The key <c>./farm token</c> signs with: the UTF-8 bytes of the configured string.</summary>
    public static SymmetricSecurityKey SigningKey(string signingKey) => new(Encoding.UTF8.GetBytes(signingKey));

    private static void Configure(JwtBearerOptions jwt, FarmAuthOptions farm)
    {
        jwt.MapInboundClaims = false;
        jwt.RequireHttpsMetadata = false;
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            ValidateIssuer = true,
            ValidIssuer = farm.Issuer,
            ValidateAudience = true,
            ValidAudience = farm.Audience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = farm.ClockSkew,
            ValidateIssuerSigningKey = true,
            IssuerSigningKey = SigningKey(farm.SigningKey),
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            NameClaimType = NameClaimType,
            RoleClaimType = RoleClaimType,
        };
    }
}
