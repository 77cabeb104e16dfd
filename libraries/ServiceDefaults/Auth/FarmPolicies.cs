namespace BuildFarm.ServiceDefaults.Auth;

/// <summary>
/// Authorization policies registered by <see cref="FarmAuthenticationExtensions.AddFarmAuthentication"/>:
/// <c>endpoint.RequireAuthorization(FarmPolicies.Submitter)</c>.
/// </summary>
public static class FarmPolicies
{
    /// <summary>Any farm role: viewer, submitter or admin.</summary>
    public const string Viewer = "farm-viewer";

    /// <summary>May submit and cancel builds: submitter or admin.</summary>
    public const string Submitter = "farm-submitter";

    /// <summary>May change the farm: admin only.</summary>
    public const string Admin = "farm-admin";
}
