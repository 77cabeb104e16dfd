using BuildFarm.Contracts;
using BuildFarm.Domain;

namespace BuildFarm.Domain.Tests;

public sealed class Validating_a_build_request
{
    private static readonly BuildRequestValidator Production = new(new SourcePolicy { AllowFileRepositories = false });
    private static readonly BuildRequestValidator LocalFarm = new(new SourcePolicy { AllowFileRepositories = true });

    private static BuildRequested Valid() => new()
    {
        BuildId = Guid.NewGuid(),
        SourceRepository = "https://src.example.org/rpms/hello.git",
        Branch = "release/1.0",
        CommitHash = "0123456789abcdef0123456789abcdef01234567",
        TargetArchitecture = "aarch64",
        Toolchain = "mock:fedora-40-aarch64",
        SpecPath = "packaging/hello.spec",
        Priority = "normal",
        ServerId = "auto",
    };

    private static HashSet<string> Fields(BuildRequestValidator validator, BuildRequested request) =>
        validator.Validate(request).Errors.Select(e => e.PropertyName).ToHashSet();

    [Fact]
    public void A_complete_request_is_valid()
    {
        Assert.Empty(Fields(Production, Valid()));
    }

    [Theory]
    [InlineData("LOW")]
    [InlineData("Urgent")]
    [InlineData("high")]
    [InlineData(null)]
    public void Priorities_are_read_in_any_case_and_default_to_normal(string? priority)
    {
        Assert.Empty(Fields(Production, Valid() with { Priority = priority }));
    }

    [Fact]
    public void Every_missing_field_is_named()
    {
        var fields = Fields(Production, new BuildRequested());

        Assert.Equal(new HashSet<string> { "buildId", "sourceRepository", "branch", "targetArchitecture", "toolchain" }, fields);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("HEAD")]
    public void No_commit_or_HEAD_asks_for_the_tip_of_the_branch(string? commit)
    {
        Assert.Empty(Fields(Production, Valid() with { CommitHash = commit }));
    }

    [Fact]
    public void A_file_repository_is_refused_unless_the_farm_is_local()
    {
        var request = Valid() with { SourceRepository = "file:///srv/git/hello.git" };

        Assert.Contains("sourceRepository", Fields(Production, request));
        Assert.Empty(Fields(LocalFarm, request));
    }

    [Theory]
    [InlineData("targetArchitecture", "m68k")]
    [InlineData("toolchain", "mock:--enable-network")]
    [InlineData("toolchain", "make")]
    [InlineData("serverId", "../etc")]
    [InlineData("specPath", "../../etc/passwd.spec")]
    [InlineData("priority", "whenever")]
    public void A_bad_value_is_refused_naming_its_field(string field, string value)
    {
        var request = field switch
        {
            "targetArchitecture" => Valid() with { TargetArchitecture = value },
            "toolchain" => Valid() with { Toolchain = value },
            "serverId" => Valid() with { ServerId = value },
            "specPath" => Valid() with { SpecPath = value },
            _ => Valid() with { Priority = value },
        };

        Assert.Equal(new HashSet<string> { field }, Fields(Production, request));
    }

    [Fact]
    public void A_named_server_is_normalised_and_auto_means_any()
    {
        Assert.Null(ServerIds.Normalise("AUTO"));
        Assert.Null(ServerIds.Normalise(null));
        Assert.Equal("b2", ServerIds.Normalise(" B2 "));
    }
}
