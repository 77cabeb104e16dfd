using System.Security.Cryptography;
using BuildFarm.Domain.Artifacts;
using BuildFarm.Testing;

namespace BuildFarm.Worker.Tests;

public sealed class Storing_artifacts : IDisposable
{
    private readonly TempDirectory _directory = new("bfstore");

    [Fact]
    public async Task Keeps_content_under_its_sha256()
    {
        var store = new ArtifactStore(_directory.Sub("store"));
        var file = Path.Combine(_directory.Path, "hello-1.0-1.noarch.rpm");
        await File.WriteAllTextAsync(file, "package bytes");

        var artifact = await store.AddAsync(file, "rpm");

        var expected = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(file)));
        Assert.Equal(expected, artifact.Sha256);
        Assert.Equal(13, artifact.Size);
        Assert.Equal("hello-1.0-1.noarch.rpm", artifact.Name);
        Assert.Equal(Path.Combine(store.Root, "sha256", expected[..2], expected), store.PathFor(expected));
        Assert.True(store.TryOpen(expected, out var stream));
        await using (stream)
        {
            Assert.Equal("package bytes", await new StreamReader(stream).ReadToEndAsync());
        }
    }

    [Fact]
    public async Task Stores_the_same_content_once()
    {
        var store = new ArtifactStore(_directory.Sub("store"));
        var a = Path.Combine(_directory.Path, "a.rpm");
        var b = Path.Combine(_directory.Path, "b.rpm");
        await File.WriteAllTextAsync(a, "same");
        await File.WriteAllTextAsync(b, "same");

        var first = await store.AddAsync(a, "rpm");
        var second = await store.AddAsync(b, "rpm");

        Assert.Equal(first.Sha256, second.Sha256);
        Assert.Single(Directory.GetFiles(Path.Combine(store.Root, "sha256"), "*", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("../../etc/passwd", "passwd")]
    [InlineData("/abs/dir/x.rpm", "x.rpm")]
    [InlineData("..", "artifact")]
    [InlineData("-rf", "rf")]
    [InlineData("a b;c$(d).rpm", "a_b_c__d_.rpm")]
    [InlineData("dir\\evil.rpm", "evil.rpm")]
    public void Sanitises_names(string path, string expected) => Assert.Equal(expected, ArtifactStore.SanitizeName(path));

    [Theory]
    [InlineData("../../../../etc/passwd")]
    [InlineData("abc")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg")]
    public void Opens_nothing_for_a_malformed_hash(string hash)
    {
        var store = new ArtifactStore(_directory.Sub("store"));
        Assert.False(store.TryOpen(hash, out _));
        Assert.Throws<ArgumentException>(() => store.PathFor(hash));
    }

    public void Dispose() => _directory.Dispose();
}
