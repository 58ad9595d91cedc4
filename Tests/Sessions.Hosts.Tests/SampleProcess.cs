using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Sessions.Testing;

namespace Sessions.Hosts.Tests;

/// <summary>
/// One sample run as its own process (<c>dotnet Sessions.Samples.HOST.dll --urls ... --store ...</c>), from the build
/// output the test project references; nothing is built here. Stopped by its PID (SIGTERM, or killed), and always
/// killed and waited for when disposed.
/// </summary>
public sealed class SampleProcess : IDisposable
{
    private const int SigTerm = 15;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly TaskCompletionSource<bool> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SampleProcess(string name, Process process, Uri baseAddress)
    {
        Name = name;
        _process = process;
        BaseAddress = baseAddress;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                lock (_output)
                    _error.AppendLine(e.Data);
            Append(e.Data);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }

    public Uri BaseAddress { get; }

    public int Pid => _process.Id;

    /// <summary>What the process wrote to stderr so far (also in <see cref="Output"/>).</summary>
    public string StandardError
    {
        get
        {
            lock (_output)
                return _error.ToString();
        }
    }

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>
    /// The sample's dll in its own build output, samples/HOST/bin/CONFIGURATION/TFM (the test project references every
    /// sample, so they are built). Not the copy beside the tests: this project runs on the ASP.NET Core shared framework,
    /// so its output leaves out the package assemblies that framework provides (Microsoft.Extensions.Logging.Abstractions,
    /// which StackExchange.Redis needs) while the HttpListener and OWIN samples run on Microsoft.NETCore.App alone.
    /// </summary>
    public static string DllPath(string name)
    {
        var file = $"Sessions.Samples.{name}.dll";
        // Tests/Sessions.Hosts.Tests/bin/<Configuration>/<tfm>/ -> samples/<Host>/bin/<Configuration>/<tfm>/
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = output.Parent!.Name;
        var looked = new List<string>();
        for (var directory = output.Parent; directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "samples", name, "bin", configuration, output.Name, file);
            if (File.Exists(candidate))
                return candidate;
            looked.Add(candidate);
        }
        Assert.Fail($"The sample {name} is not built: none of {string.Join(", ", looked)} exists.");
        return null!;
    }

    /// <summary>Starts the sample and waits until it says it listens and answers <c>GET /</c>.</summary>
    public static Task<SampleProcess> StartAsync(string name, params string[] storeArgs) =>
        StartAsync(name, "/", HttpStatusCode.OK, storeArgs);

    /// <summary>Starts the sample and waits until it says it listens and answers <c>GET readyPath</c> with <paramref name="readyStatus"/>.</summary>
    public static async Task<SampleProcess> StartAsync(string name, string readyPath, HttpStatusCode readyStatus, params string[] storeArgs)
    {
        for (var attempt = 1; ; attempt++)
        {
            var process = Launch(name, LoopbackPorts.Free(), storeArgs);
            try
            {
                await process.WaitUntilServingAsync(readyPath, readyStatus);
                return process;
            }
            catch (SampleExitedException e) when (attempt < 3 && e.PortTaken)
            {
                // The free port was taken between the probe and the sample's bind: try again on another port, and say so.
                // Any other early exit fails the test with the sample's output.
                TestContext.Out.WriteLine($"Attempt {attempt} to start {name} failed, retrying: {e.Message}");
                process.Dispose();
            }
            catch
            {
                process.Dispose();
                throw;
            }
        }
    }

    /// <summary>Starts the sample expecting it to fail at start-up; returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Output)> RunToExitAsync(string name, params string[] storeArgs) =>
        RunToExitAsync(name, LoopbackPorts.Free(), storeArgs);

    /// <summary>Starts the sample on <paramref name="port"/> expecting it to fail at start-up; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(string name, int port, params string[] storeArgs)
    {
        using var process = Launch(name, port, storeArgs);
        await process.WaitForStartupExitAsync();
        return (process._process.ExitCode, process.Output);
    }

    /// <summary>Starts the sample expecting it to fail at start-up; returns it exited (dispose it), its stderr apart.</summary>
    public static async Task<SampleProcess> StartToExitAsync(string name, params string[] storeArgs)
    {
        var process = Launch(name, LoopbackPorts.Free(), storeArgs);
        try
        {
            await process.WaitForStartupExitAsync();
            return process;
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    private async Task WaitForStartupExitAsync()
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"{Name} was expected to exit but still runs after {StartTimeout.TotalSeconds} s: {Output}");
        }
    }

    private static SampleProcess Launch(string name, int port, string[] storeArgs)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        var url = "http://127.0.0.1:" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var arg in new[] { DllPath(name), "--urls", url }.Concat(storeArgs))
            start.ArgumentList.Add(arg);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = Process.Start(start) ?? throw new InvalidOperationException($"dotnet did not start {name}.");
        return new SampleProcess(name, process, new Uri(url + "/"));
    }

    /// <summary>Stops the sample: SIGTERM (a graceful shutdown that closes the store) or SIGKILL (a crash), then waits for the exit.</summary>
    public async Task StopAsync(bool kill)
    {
        if (kill)
            _process.Kill();
        else if (SendSignal(_process.Id, SigTerm) != 0)
            throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}.");
        using var timeout = new CancellationTokenSource(ExitTimeout);
        await _process.WaitForExitAsync(timeout.Token);
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Waits for the sample's "Now listening on: URL" line, then checks it answers <c>GET readyPath</c>. No connection is made
    /// before that line: a connection reaching .NET's managed HttpListener while <c>Start()</c> is still setting up its
    /// socket makes <c>Start()</c> throw an ArgumentNullException ("Value cannot be null.": its accept loop runs before
    /// its connection table exists, dotnet/corefx#35191), and a poll of a port whose sample has not bound it yet could
    /// reach another listener that took the port.
    /// </summary>
    private async Task WaitUntilServingAsync(string readyPath, HttpStatusCode readyStatus)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        var exited = _process.WaitForExitAsync(timeout.Token);
        var first = await Task.WhenAny(_listening.Task, exited);
        if (first != _listening.Task)
        {
            if (!_process.HasExited)
                throw new TimeoutException($"{Name} did not say it listens on {BaseAddress} within {StartTimeout.TotalSeconds} s: {Output}");
            await _process.WaitForExitAsync(); // drain the output
            var output = Output;
            throw new SampleExitedException($"{Name} exited with {_process.ExitCode} before serving: {output}",
                output.Contains("address already in use", StringComparison.OrdinalIgnoreCase));
        }
        await timeout.CancelAsync(); // stop waiting for the exit

        using var http = new HttpClient { Timeout = StartTimeout };
        using var response = await http.GetAsync(new Uri(BaseAddress, readyPath));
        response.StatusCode.Should().Be(readyStatus, $"{Name} said it listens on {BaseAddress}: {Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
        // The samples print the line as is; ASP.NET Core's console logger (the README examples) indents it.
        if (line.TrimStart() == "Now listening on: " + BaseAddress.GetLeftPart(UriPartial.Authority))
            _listening.TrySetResult(true);
    }

    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
            return host;
        if (Environment.ProcessPath is { } current && Path.GetFileNameWithoutExtension(current) == "dotnet")
            return current;
        return "dotnet";
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit((int)ExitTimeout.TotalMilliseconds);
            }
        }
        catch (InvalidOperationException)
        {
            // never started or already gone
        }
        _process.Dispose();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    private sealed class SampleExitedException(string message, bool portTaken) : Exception(message)
    {
        /// <summary>Whether the sample could not bind its port (taken by another process since the probe).</summary>
        public bool PortTaken { get; } = portTaken;
    }
}
