using BuildFarm.Contracts;
using BuildFarm.Domain;
using BuildFarm.Domain.Artifacts;
using BuildFarm.Persistence;
using BuildFarm.ServiceDefaults;
using BuildFarm.ServiceDefaults.Auth;
using BuildFarm.Submission.Apis;
using BuildFarm.Submission.Builds;
using BuildFarm.Submission.Cleanup;
using BuildFarm.Submission.Consumers;
using BuildFarm.Submission.Infrastructure;
using BuildFarm.Submission.Logs;
using BuildFarm.Submission.Projects;
using BuildFarm.Submission.Servers;
using FluentValidation;
using Microsoft.Extensions.Options;

namespace BuildFarm.Submission;

public static class SubmissionExtensions
{
    /// <summary>The largest request body accepted (a build request is well under 8 KiB).</summary>
    public const long MaxBodyBytes = 64 * 1024;

    /// <summary>The HTTP gateway: validation, the builds store, the log store, problem details.</summary>
    public static IHostApplicationBuilder AddSubmission(this IHostApplicationBuilder builder)
    {
        builder.AddFarmAuthentication();
        builder.Services.AddProblemDetails();
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = MaxBodyBytes);
        builder.Services.AddExceptionHandler<ProblemDetailsExceptionHandler>();
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer<BearerSecuritySchemeTransformer>());
        builder.Services.AddOptions<FarmOptions>().BindConfiguration(FarmOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(sp => new SourcePolicy { AllowFileRepositories = sp.GetRequiredService<IOptions<FarmOptions>>().Value.AllowFileRepositories });
        builder.Services.AddSingleton(sp => new ArtifactStore(sp.GetRequiredService<IOptions<FarmOptions>>().Value.ArtifactStore));
        builder.Services.AddSingleton<IValidator<BuildRequested>, BuildRequestValidator>();
        builder.Services.AddSingleton<IValidator<SubmitBuildRequest>, SubmitBuildRequestValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<BuildSubmissions>();
        builder.Services.AddSingleton<BuildQueries>();
        builder.Services.AddSingleton<BuildRejections>();
        builder.Services.AddSingleton<QueueLengthCache>();
        builder.Services.AddSingleton<TakenUpRequests>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TakenUpRequests>());
        builder.Services.AddSingleton<ServerQueries>();
        builder.Services.AddSingleton<Apis.StatusReportCache>();
        builder.AddLogs();

        builder.AddFarmPostgres();
        builder.Services.AddPostgresMigrations(typeof(SubmissionExtensions).Assembly);
        builder.AddFarmBus(x =>
        {
            x.AddPostgresOutbox();
            x.AddConsumer<StoreBuildLogConsumer>(typeof(StoreBuildLogConsumerDefinition));
            x.AddConsumer<RecordRejectionConsumer>();
            x.AddFarmSettingsListener();
        });
        builder.Services.AddFarmSettingsBootstrap();
        builder.AddProjects();
        builder.AddBuildCleanup();
        return builder;
    }

    public static WebApplication MapSubmissionApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOpenApi();
        app.MapBuildsApi();
        app.MapProjectsApi();
        app.MapStatusPage();
        return app;
    }
}
