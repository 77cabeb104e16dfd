using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace BuildFarm.ServiceDefaults.Auth;

/// <summary>The farm's one token minter (HS256; sub, name, role, iss, aud, iat, nbf, exp): <c>./farm token</c> (tools/FarmToken) and the tests mint with it.</summary>
public static class FarmTokens
{
    public static string Create(string signingKey, string user, string role, TimeSpan lifetime) =>
        Create(signingKey, user, role, lifetime, FarmAuthOptions.DefaultIssuer, FarmAuthOptions.DefaultAudience);

    public static string Create(string signingKey, string user, string role, TimeSpan lifetime, string issuer, string audience)
    {
        ArgumentException.ThrowIfNullOrEmpty(signingKey);
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentException.ThrowIfNullOrEmpty(role);
        var now = DateTime.UtcNow;
        var expires = now + lifetime;
        var notBefore = lifetime < TimeSpan.Zero ? expires - TimeSpan.FromMinutes(1) : now;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = notBefore,
            NotBefore = notBefore,
            Expires = expires,
            Subject = new ClaimsIdentity([
                new Claim(FarmAuthenticationExtensions.NameClaimType, user),
                new Claim("name", user),
                new Claim(FarmAuthenticationExtensions.RoleClaimType, role),
            ]),
            SigningCredentials = new SigningCredentials(FarmAuthenticationExtensions.SigningKey(signingKey), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }
}
