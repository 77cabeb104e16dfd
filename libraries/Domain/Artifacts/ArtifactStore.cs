using System.Security.Cryptography;
using System.Text;
using BuildFarm.Contracts;

namespace BuildFarm.Domain.Artifacts;

/// <summary>
/// A content-addressed store of build artifacts in one directory: a file with SHA-256 <c>ab12…</c>
/// lives at <c>&lt;root&gt;/sha256/ab/ab12…</c>. The same content is stored once, whatever its name;
/// names travel in the <see cref="Artifact"/> record only, sanitised to a safe basename. No path is
/// ever built from a name, so nothing can escape the store.
/// </summary>
public sealed class ArtifactStore
{
    private const int MaxNameLength = 200;

    public ArtifactStore(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    /// <summary>Partial copies in the store's incoming directory that <see cref="AddAsync"/> made for <paramref name="owner"/>.</summary>
    public IEnumerable<string> IncomingOf(string owner)
    {
        var incoming = Path.Combine(Root, "incoming");
        return Directory.Exists(incoming) ? Directory.EnumerateFiles(incoming, owner + ".*") : [];
    }

    /// <summary>Where the content with this SHA-256 lives. Throws when <paramref name="sha256"/> is not 64 hex digits.</summary>
    public string PathFor(string sha256)
    {
        if (!IsSha256(sha256))
        {
            throw new ArgumentException("a SHA-256 is 64 hexadecimal digits", nameof(sha256));
        }
        var hex = sha256.ToLowerInvariant();
        return Path.Combine(Root, "sha256", hex[..2], hex);
    }

    /// <summary>
    /// Copies a file into the store and describes it. The SHA-256 is computed over the bytes as they are written into
    /// the store's own file, so the recorded checksum is that of the stored copy whatever the source does meanwhile;
    /// the stored file is read-only. A file that is not a regular file, or (with <paramref name="within"/>) whose real
    /// path is outside that directory, as a symbolic link a build made to a file of the host's would be, is refused.
    /// </summary>
    public async Task<Artifact> AddAsync(string file, string kind, CancellationToken cancellationToken = default, string? within = null,
        string? owner = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(file);
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        if (new FileInfo(file).LinkTarget is not null)
        {
            throw new InvalidDataException($"{SanitizeName(file)} is a symbolic link, not a file the build made");
        }
        var incoming = Path.Combine(Root, "incoming");
        Directory.CreateDirectory(incoming);
        // A partial copy left by a process that died is named after its owner (when given), who removes it: IncomingOf.
        var temporary = Path.Combine(incoming, owner is null ? Guid.NewGuid().ToString("N") : $"{owner}.{Guid.NewGuid():N}");
        try
        {
            string sha256;
            long size;
            await using (var source = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true))
            await using (var target = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                if (within is not null && !OperatingSystem.IsWindows())
                {
                    // The path that was really opened, whatever links led to it.
                    var real = new FileInfo($"/proc/self/fd/{source.SafeFileHandle.DangerousGetHandle()}").LinkTarget;
                    var root = Path.GetFullPath(within).TrimEnd('/') + "/";
                    if (real is null || !real.StartsWith(root, StringComparison.Ordinal))
                    {
                        throw new InvalidDataException($"{SanitizeName(file)} is not inside the build's workspace");
                    }
                }
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[81920];
                int read;
                while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
                await target.FlushAsync(cancellationToken);
                size = target.Length;
                sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }
            var destination = PathFor(sha256);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            if (File.Exists(destination) && await HashOfAsync(destination, cancellationToken) != sha256)
            {
                // The stored copy of this content was changed on disk: the new, verified copy takes its place.
                File.Move(temporary, destination, overwrite: true);
            }
            else if (File.Exists(destination))
            {
                File.Delete(temporary);
            }
            else
            {
                try
                {
                    File.Move(temporary, destination);
                }
                catch (IOException) when (File.Exists(destination))
                {
                    File.Delete(temporary); // the same content arrived at the same time
                }
            }
            return new Artifact(SanitizeName(file), size, sha256, kind);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    /// <summary>Opens stored content for reading; false when the hash is malformed or not stored.</summary>
    public bool TryOpen(string sha256, out Stream stream)
    {
        stream = Stream.Null;
        if (!IsSha256(sha256))
        {
            return false;
        }
        try
        {
            stream = new FileStream(PathFor(sha256), FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
            return true;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// True when the stored file with this SHA-256 still has that SHA-256 (it was not changed on disk); false when
    /// it differs or is missing, with the checksum it has now (null when missing).
    /// </summary>
    public async Task<(bool Intact, string? Actual)> VerifyAsync(string sha256, CancellationToken cancellationToken = default)
    {
        if (!Contains(sha256))
        {
            return (false, null);
        }
        var actual = await HashOfAsync(PathFor(sha256), cancellationToken);
        return (string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase), actual);
    }

    private static async Task<string> HashOfAsync(string file, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }

    /// <summary>True when the store holds this content.</summary>
    public bool Contains(string sha256) => IsSha256(sha256) && File.Exists(PathFor(sha256));

    /// <summary>64 hexadecimal digits.</summary>
    public static bool IsSha256(string? value) =>
        value is { Length: 64 } && value.All(char.IsAsciiHexDigit);

    /// <summary>
    /// The basename of a path, restricted to letters, digits and <c>. _ + - ~</c> (anything else becomes
    /// '_'), never empty, never "." or "..", never starting with '-' or '.', at most 200 characters.
    /// </summary>
    public static string SanitizeName(string path)
    {
        var name = path.Replace('\\', '/');
        name = name[(name.LastIndexOf('/') + 1)..];
        var safe = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '+' or '-' or '~' ? c : '_');
        }
        var result = safe.ToString().TrimStart('.', '-');
        if (result.Length > MaxNameLength)
        {
            result = result[^MaxNameLength..];
        }
        return result.Length == 0 ? "artifact" : result;
    }
}
