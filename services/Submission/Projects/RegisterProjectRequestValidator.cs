using System.Text.RegularExpressions;
using BuildFarm.Contracts;
using FluentValidation;

namespace BuildFarm.Submission.Projects;

/// <summary>
/// A project is valid when a build of it would be: the same rules as a build request (source, branch, architecture,
/// toolchain, spec path, priority, server; errors under the same camelCase field names), plus a well-formed name.
/// </summary>
public sealed partial class RegisterProjectRequestValidator : AbstractValidator<RegisterProjectRequest>
{
    public const int MaxNameLength = 100;

    public RegisterProjectRequestValidator(IValidator<BuildRequested> rules)
    {
        RuleFor(x => x.Name)
            .Must(n => n is not null && NamePattern().IsMatch(n))
            .WithMessage($"name is required: 1 to {MaxNameLength} letters, digits, '.', '_' or '-', starting with a letter or digit")
            .OverridePropertyName("name");
        RuleFor(x => x).Custom((request, context) =>
        {
            foreach (var failure in rules.Validate(request.ToSampleBuildRequest()).Errors)
            {
                context.AddFailure(failure);
            }
        });
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
