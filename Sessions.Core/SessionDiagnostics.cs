namespace Sessions;

/// <summary>
/// The names under which Sessions publishes its metrics and traces, for OpenTelemetry and <c>dotnet-counters</c>:
/// <c>.AddMeter(SessionDiagnostics.MeterName)</c>, <c>.AddSource(SessionDiagnostics.ActivitySourceName)</c>.
/// docs/observability.md lists every instrument, activity and log event.
/// </summary>
public static class SessionDiagnostics
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> every <see cref="SessionManager"/> records on: <c>Sessions</c>.</summary>
    public const string MeterName = "Sessions";

    /// <summary>The name of the <see cref="System.Diagnostics.ActivitySource"/> of the database calls: <c>Sessions</c>.</summary>
    public const string ActivitySourceName = "Sessions";
}
