using Npgsql;

namespace BuildFarm.Submission.Builds;

/// <summary>
/// Marks the requests accepted here that the Scheduler has taken up (<c>build_request.taken_up</c>: the build is in
/// build_view), every <see cref="Interval"/>, in batches. Listing reads only the unmarked requests from build_request
/// (and checks each against build_view), so the mark keeps that set small; a late mark costs time, never a wrong answer.
/// </summary>
public sealed partial class TakenUpRequests(NpgsqlDataSource dataSource, TimeProvider time, ILogger<TakenUpRequests> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    /// <summary>Requests marked per statement.</summary>
    public const int BatchSize = 5_000;

    /// <summary>Marks every request the Scheduler has taken up; returns how many.</summary>
    public async Task<int> MarkAsync(CancellationToken ct)
    {
        var total = 0;
        while (true)
        {
            await using var command = dataSource.CreateCommand("""
                UPDATE build_request r SET taken_up = true
                 WHERE r.build_id IN (SELECT q.build_id FROM build_request q
                                       WHERE NOT q.taken_up AND EXISTS (SELECT 1 FROM build_view v WHERE v.build_id = q.build_id)
                                       LIMIT $1 FOR UPDATE SKIP LOCKED)
                """);
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = BatchSize });
            var marked = await command.ExecuteNonQueryAsync(ct);
            total += marked;
            if (marked < BatchSize)
            {
                return total;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await MarkAsync(stoppingToken);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
            {
                // The Scheduler has not created build_view yet (it migrates at its own start): the next round tries again.
                LogNoReadModel();
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                // The database is away: the next round tries again.
                LogMarkFailed(ex);
            }
            try
            {
                await Task.Delay(Interval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    [LoggerMessage(LogLevel.Debug, "build_view does not exist yet; requests are marked taken up once the Scheduler has created it")]
    private partial void LogNoReadModel();

    [LoggerMessage(LogLevel.Warning, "Could not mark the requests the Scheduler has taken up; listing reads more of build_request until it can")]
    private partial void LogMarkFailed(Exception exception);
}
