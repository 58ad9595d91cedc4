using System.Collections.Concurrent;
using System.Diagnostics;

namespace Sessions.Testing;

/// <summary>
/// An <see cref="ActivityListener"/> on the Sessions source that keeps the stopped activities under one root activity it
/// starts (so parallel tests do not mix): run the code under test after creating it.
/// </summary>
public sealed class ActivityCapture : IDisposable
{
    private static readonly ActivitySource TestSource = new("Sessions.Tests");
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();

    public ActivityCapture()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is SessionDiagnostics.ActivitySourceName or "Sessions.Tests",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (Root is not null && activity.TraceId == Root.TraceId && activity != Root)
                    _stopped.Enqueue(activity);
            },
        };
        ActivitySource.AddActivityListener(_listener);
        Root = TestSource.StartActivity("test");
    }

    /// <summary>The activity the captured ones descend from; it is <see cref="Activity.Current"/> for the test's code.</summary>
    public Activity? Root { get; }

    /// <summary>The activities stopped so far under <see cref="Root"/>, in order.</summary>
    public IReadOnlyList<Activity> Stopped => [.. _stopped];

    public void Dispose()
    {
        Root?.Stop();
        _listener.Dispose();
    }
}
