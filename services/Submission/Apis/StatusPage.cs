using System.Globalization;
using System.Net;
using System.Text;
using BuildFarm.ServiceDefaults.Auth;

namespace BuildFarm.Submission.Apis;

/// <summary>
/// GET /status: a page for operators, refreshed every 5 s — the queue by architecture and priority, the
/// estimated wait of a new build, and every build server's capacity and use. Counts only: no repository,
/// submitter or build is named, so it needs no token; the servers' host names show only with a farm token. The
/// figures come from <see cref="StatusReportCache"/>: at most one computation every few seconds.
/// </summary>
internal static class StatusPage
{
    public static IEndpointRouteBuilder MapStatusPage(this IEndpointRouteBuilder app)
    {
        app.MapGet("/status", Render).WithTags("Status").ExcludeFromDescription();
        return app;
    }

    public static async Task<IResult> Render(StatusReportCache reports, HttpContext http, CancellationToken ct)
    {
        var report = await reports.GetAsync(ct);
        var servers = report.Servers;
        var queue = report.Queue;
        // Host names are internal addresses: only a farm user (a viewer token or better) sees them.
        var showHosts = http.User.Identity?.IsAuthenticated == true
            && (http.User.IsInRole(FarmRoles.Viewer) || http.User.IsInRole(FarmRoles.Submitter) || http.User.IsInRole(FarmRoles.Admin));

        var html = new StringBuilder();
        html.Append("""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
            <title>BuildFarm status</title>
            <style>
              body{font-family:system-ui,sans-serif;margin:2rem;color:#222} h1{margin-bottom:.2rem}
              table{border-collapse:collapse;margin:1rem 0} th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
              th{background:#f3f3f3} .Online{color:#176f2c;font-weight:600} .Offline{color:#a11;font-weight:600} .muted{color:#777}
            </style></head><body><h1>BuildFarm</h1>
            """);
        if (queue is null)
        {
            html.Append("<p class=\"Offline\">The Scheduler did not answer: queue figures are not available.</p>");
        }
        else
        {
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"muted\">as of {queue.At:yyyy-MM-dd HH:mm:ss} UTC</p>");
            html.Append(CultureInfo.InvariantCulture,
                $"<p><b>{queue.Queued}</b> queued · <b>{queue.Building}</b> on build servers · farm-wide limit <b>{queue.FarmLimit}</b></p>");
            html.Append("<h2>Queue</h2><table><tr><th>Architecture</th><th>Queued</th><th>Building</th><th>Wait for a new build</th></tr>");
            var architectures = queue.QueuedByArchitecture.Keys.Concat(queue.BuildingByArchitecture.Keys)
                .Concat(queue.EstimatedWait.Select(w => w.Architecture)).Distinct().Order(StringComparer.Ordinal);
            foreach (var arch in architectures)
            {
                var wait = queue.EstimatedWait.FirstOrDefault(w => w.Architecture == arch);
                var waitText = wait is null ? "no server" : wait.Wait is { } t ? Duration(t) : wait.WhyWaiting ?? "unknown";
                html.Append(CultureInfo.InvariantCulture,
                    $"<tr><td>{Encode(arch)}</td><td>{queue.QueuedByArchitecture.GetValueOrDefault(arch)}</td><td>{queue.BuildingByArchitecture.GetValueOrDefault(arch)}</td><td>{Encode(waitText)}</td></tr>");
            }
            html.Append("</table><p>By priority: ");
            html.AppendJoin(" · ", queue.QueuedByPriority.Select(p => $"{Encode(p.Key)} {p.Value}"));
            html.Append("</p>");
        }
        html.Append("<h2>Build servers</h2><table><tr><th>Server</th><th>Status</th><th>Architectures</th><th>Toolchains</th>"
            + "<th>Builds</th><th>CPU</th><th>Memory</th><th>Disk</th><th>Last heartbeat</th></tr>");
        foreach (var s in servers)
        {
            var status = s.Maintenance ? "Maintenance" : s.Status;
            html.Append(CultureInfo.InvariantCulture,
                $"<tr><td>{Encode(s.Id)}{(showHosts ? $"<br><span class=\"muted\">{Encode(s.Host)}</span>" : "")}</td><td class=\"{Encode(s.Status)}\">{Encode(status)}</td>"
                + $"<td>{Encode(string.Join(", ", s.Architectures))}</td><td>{Encode(string.Join(", ", s.Toolchains))}</td>"
                + $"<td>{s.AssignedBuilds} / {s.MaxConcurrentBuilds}</td><td>{s.CpuPercent:0}%</td><td>{s.MemoryPercent:0}%</td><td>{s.DiskPercent:0}%</td>"
                + $"<td>{s.LastSeen:HH:mm:ss}</td></tr>");
        }
        if (servers.Count == 0)
        {
            html.Append("<tr><td colspan=\"9\" class=\"muted\">No build server has announced itself.</td></tr>");
        }
        html.Append("</table></body></html>");
        return Results.Content(html.ToString(), "text/html; charset=utf-8");
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Duration(TimeSpan t) =>
        t < TimeSpan.FromSeconds(1) ? "none" : t < TimeSpan.FromMinutes(1) ? $"{t.TotalSeconds:0} s" : t < TimeSpan.FromHours(1) ? $"{t.TotalMinutes:0} min" : $"{t.TotalHours:0.#} h";
}
