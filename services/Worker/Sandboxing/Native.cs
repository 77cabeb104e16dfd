using System.Runtime.InteropServices;

namespace BuildFarm.Worker.Sandboxing;

/// <summary>The few libc calls the sandbox needs.</summary>
internal static partial class Native
{
    public const int SigKill = 9;

    public static void Kill(int pid, int signal) => _ = kill(pid, signal);

    /// <summary>Changes the owner of a path without following a symbolic link; throws on failure.</summary>
    public static void ChangeOwner(string path, int uid, int gid)
    {
        if (lchown(path, uid, gid) != 0)
        {
            throw new IOException($"could not give {path} to uid {uid}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lchown(string path, int owner, int group);
}
