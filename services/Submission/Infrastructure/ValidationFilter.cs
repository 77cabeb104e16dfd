using FluentValidation;

namespace BuildFarm.Submission.Infrastructure;

/// <summary>Runs the FluentValidation validator of the endpoint's <typeparamref name="T"/> argument; 400 problem details naming each field.</summary>
public sealed class ValidationFilter<T>(IValidator<T> validator) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (context.Arguments.OfType<T>().FirstOrDefault() is { } argument)
        {
            var result = await validator.ValidateAsync(argument, context.HttpContext.RequestAborted);
            if (!result.IsValid)
            {
                return TypedResults.ValidationProblem(result.ToDictionary(), title: "The request is not valid.");
            }
        }
        return await next(context);
    }
}
