using System.ComponentModel.DataAnnotations;
using System.Text;

namespace BuildFarm.ServiceDefaults.Auth;

/// <summary>How the farm's bearer tokens are checked (configuration section <c>Auth</c>).</summary>
public sealed class FarmAuthOptions : IValidatableObject
{
    public const string SectionName = "Auth";
    public const string DefaultIssuer = "buildfarm-local";
    public const string DefaultAudience = "buildfarm";

    /// <summary>The fewest bytes an HS256 key may have (its hash size).</summary>
    public const int MinimumKeyBytes = 32;

    /// <summary>The HS256 key: the UTF-8 bytes of this string (as <c>./farm token</c> signs with).</summary>
    public string SigningKey { get; set; } = "";

    [Required(AllowEmptyStrings = false, ErrorMessage = "Auth:Issuer must not be empty.")]
    public string Issuer { get; set; } = DefaultIssuer;

    [Required(AllowEmptyStrings = false, ErrorMessage = "Auth:Audience must not be empty.")]
    public string Audience { get; set; } = DefaultAudience;

    /// <summary>How far token lifetimes may be off the local clock.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "Auth:ClockSkew must be between 0 and 10 minutes.")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrEmpty(SigningKey))
        {
            yield return new ValidationResult(
                "Auth:SigningKey is not set: the HS256 key that signs the farm's bearer tokens (at least 32 bytes).",
                [nameof(SigningKey)]);
        }
        else if (Encoding.UTF8.GetByteCount(SigningKey) < MinimumKeyBytes)
        {
            yield return new ValidationResult(
                $"Auth:SigningKey is {Encoding.UTF8.GetByteCount(SigningKey)} bytes; an HS256 key needs at least {MinimumKeyBytes}.",
                [nameof(SigningKey)]);
        }
    }
}
