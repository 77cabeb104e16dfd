namespace BuildFarm.ServiceDefaults.Auth;

/// <summary>The roles a farm token can carry in its <c>role</c> claim.</summary>
public static class FarmRoles
{
    public const string Viewer = "viewer";
    public const string Submitter = "submitter";
    public const string Admin = "admin";
}
