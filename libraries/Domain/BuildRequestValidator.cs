using BuildFarm.Contracts;
using BuildFarm.Domain.Sources;
using FluentValidation;

namespace BuildFarm.Domain;

/// <summary>
/// The one set of rules for a build request, used by both doors: the HTTP gateway (400 problem
/// details) and the Scheduler for requests published straight onto the bus (BuildRejected).
/// Property names in errors are the API's camelCase field names.
/// </summary>
public sealed class BuildRequestValidator : AbstractValidator<BuildRequested>
{
    public const int MaxUrlLength = 2048;
    public const int MaxNameLength = 255;

    public BuildRequestValidator(SourcePolicy policy)
    {
        RuleFor(x => x.BuildId).NotEmpty().OverridePropertyName("buildId");
        RuleFor(x => x.SourceRepository)
            .Must(url => GitSource.RepositoryUrlError(url, policy.AllowFileRepositories) is null)
            .WithMessage(x => GitSource.RepositoryUrlError(x.SourceRepository, policy.AllowFileRepositories)!)
            .OverridePropertyName("sourceRepository");
        RuleFor(x => x.Branch)
            .Must(b => GitSource.BranchError(b) is null)
            .WithMessage(x => GitSource.BranchError(x.Branch)!)
            .OverridePropertyName("branch");
        RuleFor(x => x.CommitHash)
            .Must(c => GitSource.CommitError(c) is null)
            .WithMessage(x => GitSource.CommitError(x.CommitHash)!)
            .OverridePropertyName("commitHash");
        RuleFor(x => x.TargetArchitecture)
            .Must(a => a is not null && Architectures.Known.Contains(a))
            .WithMessage(x => $"unknown architecture '{Toolchains.Shorten(x.TargetArchitecture ?? "")}': use one of {string.Join(", ", Architectures.Known)}")
            .OverridePropertyName("targetArchitecture");
        RuleFor(x => x.Toolchain)
            .Must(t => Toolchains.Error(t) is null)
            .WithMessage(x => Toolchains.Error(x.Toolchain)!)
            .OverridePropertyName("toolchain");
        RuleFor(x => x.SpecPath)
            .Must(p => GitSource.SpecPathError(p) is null)
            .When(x => !string.IsNullOrEmpty(x.SpecPath))
            .WithMessage(x => GitSource.SpecPathError(x.SpecPath)!)
            .OverridePropertyName("specPath");
        RuleFor(x => x.Priority)
            .Must(p => BuildPriorities.TryParse(p, out _))
            .WithMessage(x => $"unknown priority '{Toolchains.Shorten(x.Priority ?? "")}': use {BuildPriorities.Names}")
            .OverridePropertyName("priority");
        RuleFor(x => x.ServerId)
            .Must(s => s is null || ServerIds.IsAutoOrValid(s))
            .WithMessage("serverId must be \"auto\" or a build server id (letters, digits, '.', '_', '-'; at most 63)")
            .OverridePropertyName("serverId");
        RuleFor(x => x.SubmittedBy)
            .MaximumLength(MaxNameLength)
            .OverridePropertyName("submittedBy");
    }
}
