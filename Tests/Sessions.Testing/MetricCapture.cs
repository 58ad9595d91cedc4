using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Sessions.Testing;

/// <summary>
/// A <see cref="MeterListener"/> that records every measurement of the instruments <paramref name="select"/> picks (by
/// meter instance, so parallel tests with their own managers do not mix), with its tags.
/// </summary>
public sealed class MetricCapture : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Measurement> _measurements = new();

    public MetricCapture(Func<Instrument, bool> select)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (select(instrument))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Records the instruments of the meters <paramref name="factory"/> created.</summary>
    public static MetricCapture Of(IMeterFactory factory) => new(instrument => ReferenceEquals(instrument.Meter.Scope, factory));

    /// <summary>Records the instruments of <paramref name="meter"/>.</summary>
    public static MetricCapture Of(Meter meter) => new(instrument => ReferenceEquals(instrument.Meter, meter));

    /// <summary>Every measurement of the instrument named <paramref name="name"/>.</summary>
    public IReadOnlyList<Measurement> Of(string name) => _measurements.Where(m => m.Instrument == name).ToList();

    /// <summary>The sum of the measurements of <paramref name="name"/> whose tags include every one of <paramref name="tags"/>.</summary>
    public double Sum(string name, params (string Key, object? Value)[] tags) =>
        Of(name).Where(m => tags.All(t => Equals(m.Tag(t.Key), t.Value))).Sum(m => m.Value);

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        _measurements.Enqueue(new Measurement(instrument.Name, instrument.Unit, value, tags.ToArray()));

    /// <summary>One measurement.</summary>
    public sealed record Measurement(string Instrument, string? Unit, double Value, IReadOnlyList<KeyValuePair<string, object?>> Tags)
    {
        public object? Tag(string key) => Tags.FirstOrDefault(t => t.Key == key).Value;
    }
}
