using BuildFarm.ServiceDefaults;
using FluentValidation;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BuildFarm.Submission.Projects;

public static class ProjectsExtensions
{
    /// <summary>
    /// Registered projects and their sync service: <see cref="ProjectStore"/>, <see cref="GitRemote"/>,
    /// <see cref="ProjectSyncer"/>, the <see cref="ProjectSyncService"/> hosted service and the options of section
    /// "Projects". Relies on what AddSubmission registers: the NpgsqlDataSource and migrations (the tables come from
    /// this assembly's Migrations/0002_projects.sql), PostgresOutbox, BuildSubmissions, SourcePolicy,
    /// IValidator&lt;BuildRequested&gt;, TimeProvider; and FarmSettingsCache (added here if missing).
    /// </summary>
    public static IHostApplicationBuilder AddProjects(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProjects();
        return builder;
    }

    /// <summary>The same as <see cref="AddProjects(IHostApplicationBuilder)"/> on a service collection.</summary>
    public static IServiceCollection AddProjects(this IServiceCollection services)
    {
        services.AddOptions<ProjectsOptions>().BindConfiguration(ProjectsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<FarmSettingsCache>();
        services.TryAddSingleton<IValidator<RegisterProjectRequest>, RegisterProjectRequestValidator>();
        services.TryAddSingleton<ProjectStore>();
        services.TryAddSingleton<GitRemote>();
        services.TryAddSingleton<ProjectSyncer>();
        services.TryAddSingleton<ProjectSyncSignal>();
        services.AddHostedService<ProjectSyncService>();
        return services;
    }

    /// <summary>GET/POST /api/v1/projects, GET/DELETE /api/v1/projects/{id}, POST /api/v1/projects/{id}/sync.</summary>
    public static RouteGroupBuilder MapProjectsApi(this IEndpointRouteBuilder app) => ProjectsApi.Map(app);
}
