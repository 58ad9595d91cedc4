using System.Diagnostics.Metrics;

namespace Sessions.Testing;

/// <summary>
/// An <see cref="IMeterFactory"/> as the container's: each meter it creates has it as <see cref="Meter.Scope"/>, so a
/// <see cref="MetricCapture"/> can listen to one manager's meter from a test without access to the manager's internals.
/// </summary>
public sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var meter = new Meter(new MeterOptions(options.Name) { Version = options.Version, Tags = options.Tags, Scope = this });
        lock (_meters)
            _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        lock (_meters)
        {
            foreach (var meter in _meters)
                meter.Dispose();
            _meters.Clear();
        }
    }
}
