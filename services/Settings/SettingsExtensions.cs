using BuildFarm.Contracts;
using BuildFarm.Persistence;
using BuildFarm.Semaphore;
using BuildFarm.ServiceDefaults;
using BuildFarm.Settings.Apis;
using BuildFarm.Settings.Consumers;
using BuildFarm.Settings.Storage;
using FluentValidation;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BuildFarm.Settings;

public static class SettingsExtensions
{
    /// <summary>
    /// The Settings service: the settings record in PostgreSQL with its audit trail, changes broadcast through the
    /// outbox, the build-slot semaphore's limit kept in step, the <see cref="GetFarmSettings"/> answer, problem details.
    /// Call <c>AddFarmAuthentication()</c> too: every endpoint needs a farm role.
    /// </summary>
    public static IHostApplicationBuilder AddSettings(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddProblemDetails(o => o.CustomizeProblemDetails = DescribeUnsupportedMediaType);
        services.AddExceptionHandler<ProblemDetailsExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddOpenApi(o => o.AddDocumentTransformer<BuildFarm.ServiceDefaults.Auth.BearerSecuritySchemeTransformer>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IValidator<FarmSettings>, FarmSettingsValidator>();
        services.AddSingleton<SettingsStore>();
        services.AddScoped<SettingsWriter>();
        services.AddOptions<SemaphoreLimitSyncOptions>().BindConfiguration(SemaphoreLimitSyncOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AutoConcurrencyLimit>();
        services.AddSingleton<SemaphoreLimitSync>();
        services.AddHostedService(sp => sp.GetRequiredService<SemaphoreLimitSync>());
        services.AddHostedService<SettingsStartup>();

        builder.AddFarmPostgres();
        services.AddPostgresMigrations(typeof(SettingsExtensions).Assembly);
        builder.AddFarmRedis();
        services.AddFarmSemaphoreAdmin();
        builder.AddFarmBus(x =>
        {
            x.AddPostgresOutbox();
            x.AddConsumer<AnswerSettingsQueryConsumer>();
        });
        return builder;
    }

    /// <summary>Routing answers a body of the wrong type with a bare 415; say what the endpoint takes.</summary>
    private static void DescribeUnsupportedMediaType(ProblemDetailsContext context)
    {
        if (context.ProblemDetails.Status != StatusCodes.Status415UnsupportedMediaType || context.ProblemDetails.Detail is not null)
        {
            return;
        }
        var request = context.HttpContext.Request;
        if (HttpMethods.IsPatch(request.Method))
        {
            context.HttpContext.Response.Headers["Accept-Patch"] = $"{SettingsApi.MergePatchJson}, application/json";
        }
        context.ProblemDetails.Detail = HttpMethods.IsPatch(request.Method)
            ? $"PATCH takes a JSON merge patch ({SettingsApi.MergePatchJson} or application/json); got '{request.ContentType}'."
            : $"{request.Method} takes application/json; got '{request.ContentType}'.";
    }

    public static WebApplication MapSettingsApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOpenApi();
        app.MapSettingsEndpoints();
        app.MapBuildStatusEndpoints();
        return app;
    }
}
