using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BuildFarm.Farm.Bench;

/// <summary>A histogram's cumulative count and sum as last exported.</summary>
internal readonly record struct HistogramTotals(ulong Count, double Sum)
{
    /// <summary>The mean of the values recorded between <paramref name="earlier"/> and this (NaN when none were).</summary>
    public double MeanSince(HistogramTotals earlier) => Count > earlier.Count ? (Sum - earlier.Sum) / (Count - earlier.Count) : double.NaN;
}

/// <summary>
/// The smallest OTLP/HTTP (protobuf) receiver that serves the benchmark: the services export to it
/// (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>, every second), and it keeps
/// the latest cumulative count and sum of every histogram by name, e.g. the Scheduler's
/// <c>buildfarm.scheduler.dispatch_pass.duration</c> (ms). Traces and logs are acknowledged and dropped.
/// </summary>
internal sealed class OtlpMetrics : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, HistogramTotals> _histograms = [];
    private readonly Task _loop;

    public OtlpMetrics()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Endpoint = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Endpoint.ToString());
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri Endpoint { get; }

    /// <summary>The environment that makes a service export its metrics here every second (and no traces).</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint.ToString().TrimEnd('/'),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
        ["OTEL_TRACES_SAMPLER"] = "always_off",
    };

    public HistogramTotals? Histogram(string name)
    {
        lock (_histograms)
        {
            return _histograms.TryGetValue(name, out var totals) ? totals : null;
        }
    }

    /// <summary>Waits for the next export that carries <paramref name="name"/> (so it holds what was recorded until now).</summary>
    public async Task<HistogramTotals> NextAsync(string name, TimeSpan timeout)
    {
        var seen = _exports;
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100));
            if (_exports >= seen + 2 && Histogram(name) is { } totals)
            {
                return totals;
            }
        }
        throw new TimeoutException($"no export of the metric {name} within {timeout.TotalSeconds:0} s (is OTLP export on?)");
    }

    private int _exports;

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            try
            {
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                if (context.Request.Url?.AbsolutePath == "/v1/metrics")
                {
                    ReadMetrics(body.GetBuffer().AsSpan(0, (int)body.Length));
                    Interlocked.Increment(ref _exports);
                }
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.ContentLength64 = 0;
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or HttpListenerException)
            {
                context.Response.StatusCode = 400;
            }
            context.Response.Close();
        }
    }

    // ExportMetricsServiceRequest { 1: ResourceMetrics } ResourceMetrics { 2: ScopeMetrics } ScopeMetrics { 2: Metric }
    // Metric { 1: name, 9: Histogram } Histogram { 1: HistogramDataPoint } HistogramDataPoint { 4: count (fixed64), 5: sum (double) }
    private void ReadMetrics(ReadOnlySpan<byte> request)
    {
        foreach (var resource in Fields(request, 1))
        {
            foreach (var scope in Fields(resource, 2))
            {
                foreach (var metric in Fields(scope, 2))
                {
                    string? name = null;
                    foreach (var n in Fields(metric, 1))
                    {
                        name = Encoding.UTF8.GetString(n);
                    }
                    foreach (var histogram in Fields(metric, 9))
                    {
                        ulong count = 0;
                        double sum = 0;
                        foreach (var point in Fields(histogram, 1))
                        {
                            var reader = new Reader(point);
                            while (reader.More)
                            {
                                var (field, wire) = reader.Tag();
                                if (field == 4 && wire == 1)
                                {
                                    count += reader.Fixed64();
                                }
                                else if (field == 5 && wire == 1)
                                {
                                    sum += BitConverter.UInt64BitsToDouble(reader.Fixed64());
                                }
                                else
                                {
                                    reader.Skip(wire);
                                }
                            }
                        }
                        if (name is not null)
                        {
                            lock (_histograms)
                            {
                                _histograms[name] = new HistogramTotals(count, sum);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>The length-delimited fields numbered <paramref name="number"/> of a message.</summary>
    private static List<byte[]> Fields(ReadOnlySpan<byte> message, int number)
    {
        var found = new List<byte[]>();
        var reader = new Reader(message);
        while (reader.More)
        {
            var (field, wire) = reader.Tag();
            if (field == number && wire == 2)
            {
                found.Add(reader.Bytes().ToArray());
            }
            else
            {
                reader.Skip(wire);
            }
        }
        return found;
    }

    /// <summary>Protocol buffers' wire format, as far as OTLP metrics need it.</summary>
    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _at;

        public readonly bool More => _at < _data.Length;

        public (int Field, int Wire) Tag()
        {
            var tag = Varint();
            return ((int)(tag >> 3), (int)(tag & 7));
        }

        public ulong Varint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_at >= _data.Length)
                {
                    throw new InvalidDataException("truncated varint");
                }
                var b = _data[_at++];
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
            throw new InvalidDataException("varint too long");
        }

        public ulong Fixed64()
        {
            var value = BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
            return value;
        }

        public ReadOnlySpan<byte> Bytes() => Take(checked((int)Varint()));

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: Take(8); break;
                case 2: Bytes(); break;
                case 5: Take(4); break;
                default: throw new InvalidDataException($"wire type {wire}");
            }
        }

        private ReadOnlySpan<byte> Take(int length)
        {
            if (_at + length > _data.Length)
            {
                throw new InvalidDataException("truncated field");
            }
            var span = _data.Slice(_at, length);
            _at += length;
            return span;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
