using System.Diagnostics;
using System.Reflection;

namespace Sessions.Redis.Tests;

/// <summary>
/// A Sessions.Redis.EventProbe child process: another application instance on the same Redis, listening to one key
/// prefix and printing each event it hears as a line.
/// </summary>
internal sealed class EventProbe : IDisposable
{
    private static readonly string Path = typeof(EventProbe).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "EventProbe").Value!;

    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly List<string> _errors = [];

    private EventProbe(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (_lines)
                _lines.Add(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (_errors)
                _errors.Add(e.Data);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Starts a probe and waits until it is subscribed (it printed <c>READY</c>).</summary>
    public static async Task<EventProbe> StartAsync(string configuration, string prefix)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Path, configuration, prefix })
            info.ArgumentList.Add(arg);
        var probe = new EventProbe(Process.Start(info)!);
        try
        {
            await probe.WaitForLineAsync(line => line == "READY", TimeSpan.FromSeconds(60));
        }
        catch
        {
            probe.Dispose();
            throw;
        }
        return probe;
    }

    /// <summary>The event lines printed so far, split: reason, remote|local, id hash, previous id hash, id|noid.</summary>
    public List<string[]> Events
    {
        get
        {
            lock (_lines)
                return _lines.Where(l => l.StartsWith("EVENT ", StringComparison.Ordinal)).Select(l => l.Split(' ')[1..]).ToList();
        }
    }

    /// <summary>Everything printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_lines)
            {
                lock (_errors)
                    return string.Join("\n", _lines.Concat(_errors));
            }
        }
    }

    /// <summary>Waits, polling, until the probe printed the event <paramref name="reason"/> for <paramref name="idHash"/>; returns its fields.</summary>
    public async Task<string[]> WaitForEventAsync(SessionEventReason reason, string idHash, TimeSpan timeout)
    {
        var line = await WaitForLineAsync(l => l.StartsWith($"EVENT {reason} ", StringComparison.Ordinal) && l.Split(' ')[3] == idHash, timeout);
        return line.Split(' ')[1..];
    }

    private async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            lock (_lines)
            {
                if (_lines.FirstOrDefault(match) is { } line)
                    return line;
            }
            if (_process.HasExited || clock.Elapsed > timeout)
                throw new TimeoutException($"The event probe did not print the expected line within {timeout.TotalSeconds:0} s (exited: {_process.HasExited}). Output:\n{Output}");
            await Task.Delay(25);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close(); // the probe exits when its input closes
                if (!_process.WaitForExit(5000))
                    _process.Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
    }
}
