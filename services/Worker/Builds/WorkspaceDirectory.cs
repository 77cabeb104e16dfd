namespace BuildFarm.Worker.Builds;

internal static class WorkspaceDirectory
{
    /// <summary>Removes a build's directory and all in it; a failure is logged, not thrown (the next sweep tries again).</summary>
    public static void Delete(string directory, ILogger logger)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(ex, "Could not remove the workspace {Workspace}", directory);
        }
    }
}
