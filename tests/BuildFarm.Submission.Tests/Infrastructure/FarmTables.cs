namespace BuildFarm.Submission.Tests.Infrastructure;

/// <summary>Tables other services own that Submission reads, created in a test database as those services would.</summary>
public static class FarmTables
{
    /// <summary>The Scheduler's saga table (its Migrations/0001_scheduler.sql), which the build store and the cleanup read.</summary>
    public const string BuildState = """
        CREATE TABLE IF NOT EXISTS build_state (
            correlation_id uuid PRIMARY KEY,
            current_state  text        NOT NULL,
            version        integer     NOT NULL,
            data           jsonb       NOT NULL,
            created_at     timestamptz NOT NULL DEFAULT now(),
            updated_at     timestamptz NOT NULL DEFAULT now()
        );
        """;
}
