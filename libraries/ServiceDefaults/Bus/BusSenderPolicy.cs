using System.Diagnostics.Metrics;
using BuildFarm.Contracts;
using Microsoft.Extensions.Options;

namespace BuildFarm.ServiceDefaults.Bus;

/// <summary>
/// Which sender may send each of the farm's messages: the one place that says so. Worker reports must come
/// from the user of the server they name (the saga then checks that the server holds the attempt); the
/// Scheduler's orders from the Scheduler; settings from Settings; cancels from the gateway, which checks who
/// asks; the Scheduler may also end an attempt as an infrastructure failure (its server was lost).
/// <see cref="BuildRequested"/> may come from anyone (the bus door): the saga records such a build
/// under its sender. A message type not named here is refused.
/// </summary>
public sealed class BusSenderPolicy(IOptions<BusSenderOptions> options)
{
    private static readonly Meter Meter = new(Extensions.TelemetryName);
    private static readonly Counter<long> RefusedMessages = Meter.CreateCounter<long>(
        "buildfarm.bus.refused", description: "Messages refused because their sender may not send them");

    private readonly BusSenderOptions o = options.Value;

    /// <summary>Counts a refused message of <paramref name="messageType"/>.</summary>
    public static void Refused(string messageType) =>
        RefusedMessages.Add(1, new KeyValuePair<string, object?>("message_type", messageType));

    /// <summary>Whether <paramref name="sender"/> (the validated user_id, or null) may send <paramref name="message"/>.</summary>
    public bool Allows(string? sender, object message)
    {
        if (!o.Check)
        {
            return true;
        }
        if (string.IsNullOrEmpty(sender))
        {
            return false;
        }
        return message switch
        {
            BuildRequested => true,
            CancelBuild or GetBuildStatus or GetQueueStatus => Is(sender, o.Submission),
            BuildDeadlineReached or BusProbe or DispatchBuild or StopBuildRun
                or BuildQueued or BuildStarted or BuildCompleted or BuildFailed or BuildCancelled or BuildRejected => Is(sender, o.Scheduler),
            SettingsChanged or ConcurrencyLimitChanged => Is(sender, o.Settings),
            BuildRunAccepted m => IsWorker(sender, m.ServerId),
            BuildRunStarted m => IsWorker(sender, m.ServerId),
            // The Scheduler reports an attempt on a server that stopped answering as lost, in that server's name.
            BuildRunFinished m => IsWorker(sender, m.ServerId)
                || Is(sender, o.Scheduler) && m.Outcome == BuildRunOutcome.InfrastructureFailed,
            BuildServerHeartbeat m => IsWorker(sender, m.ServerId),
            BuildLogAppended m => IsWorker(sender, m.ServerId),
            GetFarmSettings => IsService(sender),
            // Answers to the farm's own requests.
            BuildStatusReport or QueueStatusReport => Is(sender, o.Scheduler),
            FarmSettings => Is(sender, o.Settings),
            MassTransit.Fault => IsService(sender),
            _ => false,
        };
    }

    /// <summary>Whether the sender is one of the farm's own services (a bus-door user is not).</summary>
    public bool IsService(string? sender) =>
        !o.Check
        || sender is not null && (Is(sender, o.Submission) || Is(sender, o.Scheduler) || Is(sender, o.Settings)
            || sender.StartsWith(o.WorkerPrefix, StringComparison.Ordinal) && sender.Length > o.WorkerPrefix.Length);

    /// <summary>Whether a <see cref="BuildRequested"/> from this sender comes through the gateway, which vouches for its submitter.</summary>
    public bool IsGateway(string? sender) => !o.Check || Is(sender, o.Submission);

    private static bool Is(string? sender, string user) => string.Equals(sender, user, StringComparison.Ordinal);

    // Server ids are case-insensitive (the queue and the RabbitMQ user are the lower-case id).
    private bool IsWorker(string sender, string? serverId) =>
        !string.IsNullOrEmpty(serverId) && Is(sender, o.WorkerPrefix + serverId.ToLowerInvariant());
}
