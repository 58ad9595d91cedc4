using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Sessions.Testing;

/// <summary>A real <c>redis-server</c> started by a test on a loopback port and stopped by its own PID.</summary>
public sealed class RedisProcess : IDisposable
{
    private const int SigStop = 19;
    private const int SigCont = 18;
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private RedisProcess(Process process, int port, string directory)
    {
        _process = process;
        Port = port;
        Directory = directory;
    }

    public int Port { get; }

    public string Directory { get; }

    public int Pid => _process.Id;

    public string Log
    {
        get
        {
            lock (_log)
                return _log.ToString();
        }
    }

    /// <summary>The path of redis-server; fails the test loudly when it is not installed (it is never skipped).</summary>
    public static string Executable
    {
        get
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/bin").Append("/usr/local/bin"))
            {
                var path = Path.Combine(dir, "redis-server");
                if (dir.Length > 0 && File.Exists(path))
                    return path;
            }
            Assert.Fail("redis-server is not installed, and the Redis tests need a real server: install it with `apt-get install redis-server` (./build.sh does it as root).");
            return null!;
        }
    }

    /// <summary>Starts redis-server on <paramref name="port"/> (no persistence) and waits until it answers PING.</summary>
    /// <param name="extraArguments">More configuration directives, e.g. <c>--rename-command CONFIG ""</c>.</param>
    public static RedisProcess Start(int port, bool cluster = false, string? directory = null, params string[] extraArguments)
    {
        var executable = Executable;
        directory ??= System.IO.Directory.CreateTempSubdirectory("sessions-redis-").FullName;
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "no", "--daemonize", "no" })
            start.ArgumentList.Add(arg);
        if (cluster)
        {
            foreach (var arg in new[] { "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000" })
                start.ArgumentList.Add(arg);
        }
        foreach (var arg in extraArguments)
            start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        var redis = new RedisProcess(process, port, directory);
        process.OutputDataReceived += (_, e) => redis.Append(e.Data);
        process.ErrorDataReceived += (_, e) => redis.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            redis.WaitUntilReady();
        }
        catch
        {
            redis.Dispose();
            throw;
        }
        return redis;
    }

    public RespClient Admin() => RespClient.Connect(Port);

    /// <summary>Freezes the server (SIGSTOP): connections stay open and nothing answers.</summary>
    public void Pause() => Signal(SigStop);

    /// <summary>Thaws the server (SIGCONT).</summary>
    public void Resume() => Signal(SigCont);

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Signal(SigCont); // a paused server would not die until resumed
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
    }

    private void WaitUntilReady()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"redis-server exited with {_process.ExitCode}: {Log}");
            try
            {
                using var client = RespClient.Connect(Port, 1000);
                if (client.Call("PING") == "PONG")
                    return;
            }
            catch (Exception e) when (e is SocketException or IOException or InvalidOperationException)
            {
                // not listening yet
            }
            if (deadline.Elapsed > TimeSpan.FromSeconds(15))
                throw new TimeoutException($"redis-server on port {Port} did not answer within 15 s: {Log}");
            Thread.Sleep(50);
        }
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.AppendLine(line);
    }

    private void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}.");
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
