using BuildFarm.Contracts;
using FluentValidation;

namespace BuildFarm.Submission.Apis;

/// <summary>Checks an HTTP submission with the same rules the Scheduler applies to a request from the bus.</summary>
public sealed class SubmitBuildRequestValidator : AbstractValidator<SubmitBuildRequest>
{
    public SubmitBuildRequestValidator(IValidator<BuildRequested> rules)
    {
        RuleFor(x => x).Custom((request, context) =>
        {
            var result = rules.Validate(request.ToMessage(Guid.NewGuid(), "validation", DateTimeOffset.UnixEpoch));
            foreach (var failure in result.Errors)
            {
                context.AddFailure(failure);
            }
        });
    }
}
