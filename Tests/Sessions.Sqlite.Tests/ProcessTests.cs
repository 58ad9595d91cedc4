using System.Diagnostics;
using System.Reflection;
using Microsoft.Data.Sqlite;
using Sessions.Testing;

namespace Sessions.Sqlite.Tests;

/// <summary>
/// Real processes on one file: a session written by one process is read by the next; a second process is refused while the
/// first holds the file; and a writer killed with SIGKILL at random moments loses no acknowledged commit.
/// </summary>
public sealed class ProcessTests
{
    private static readonly string CrashWriter = typeof(ProcessTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "CrashWriter").Value!;

    private TempDirectory _directory = null!;

    private string DbPath => _directory.File("sessions.db");

    [SetUp]
    public void SetUp() => _directory = new TempDirectory();

    [TearDown]
    public void TearDown() => _directory.Dispose();

    [Test]
    public async Task SessionWrittenByOneProcess_IsReadByTheNextAfterTheFirstExits()
    {
        var created = await RunToEndAsync("create", DbPath, "name", "iris");
        created.Should().StartWith("ID ");
        var id = created["ID ".Length..];

        (await RunToEndAsync("read", DbPath, id, "name")).Should().Be("VALUE iris");
        (await RunToEndAsync("read", DbPath, SessionIds.NewId(), "name")).Should().Be("NEW");

        using var database = new SqliteSessionDatabase(DbPath);
        using var manager = new SessionManager(new SessionConfig { Database = database });
        var session = await manager.StartAsync(new TestCarrier($"{SessionConfig.DefaultCookieName}={id}"));
        session.IsNew.Should().BeFalse();
        session.GetString("name").Should().Be("iris");
        session.PeekFlash("notice").Should().Be("created by another process");
    }

    [Test]
    public async Task FileHeldByAnotherProcess_FailsWithAClearError_AndIsFreedWhenThatProcessIsKilled()
    {
        using var holder = Start("hold", DbPath);
        (await holder.StandardOutput.ReadLineAsync()).Should().Be("READY");

        var act = () => new SqliteSessionDatabase(DbPath);
        act.Should().Throw<SessionDatabaseException>().WithMessage($"*'{DbPath}'*in use by another process*");

        holder.Kill(); // SIGKILL: the operating system releases the lock with the process
        await holder.WaitForExitAsync();
        using var database = new SqliteSessionDatabase(DbPath);
        (await database.CountAsync(CancellationToken.None)).Should().Be(0);
    }

    [Test]
    public async Task AnotherProcess_IsRefusedWhileThisOneHoldsTheFile()
    {
        using (new SqliteSessionDatabase(DbPath))
        {
            var line = await RunToEndAsync("hold", DbPath);
            line.Should().StartWith("ERROR ").And.Contain(DbPath).And.Contain("in use by another process");
        }
    }

    [Test]
    public async Task WriterKilledAtRandomMoments_LosesNoAcknowledgedCommit()
    {
        const int rounds = 8;
        var random = new Random();
        var values = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal); // id -> key -> last acknowledged value
        var destroyed = new HashSet<string>(StringComparer.Ordinal);
        var acknowledged = new List<int>();

        for (var round = 0; round < rounds; round++)
        {
            var mode = round % 2 == 0 ? "full" : "normal";
            using var writer = Start("crash", DbPath, mode);
            var lines = new List<string>();
            var first = await writer.StandardOutput.ReadLineAsync();
            first.Should().NotBeNull("the writer must acknowledge a commit (stderr: {0})", writer.HasExited ? await writer.StandardError.ReadToEndAsync() : "");
            lines.Add(first!);
            var reading = Task.Run(async () =>
            {
                while (await writer.StandardOutput.ReadLineAsync() is { } line)
                {
                    lock (lines)
                        lines.Add(line);
                }
            });
            await Task.Delay(random.Next(20, 600));
            writer.Kill();
            await writer.WaitForExitAsync();
            await reading;
            writer.ExitCode.Should().Be(137, "the writer was killed by SIGKILL, not stopped by an error");

            var count = 0;
            foreach (var line in lines)
            {
                var parts = line.Split(' ');
                if (parts[^1] != ".")
                    continue; // a line cut by the kill is not an acknowledgement
                count++;
                switch (parts[0])
                {
                    case "NEW":
                        values[parts[1]] = new Dictionary<string, long>(StringComparer.Ordinal) { [parts[2]] = long.Parse(parts[3], System.Globalization.CultureInfo.InvariantCulture) };
                        break;
                    case "SET":
                        values[parts[1]][parts[2]] = long.Parse(parts[3], System.Globalization.CultureInfo.InvariantCulture);
                        break;
                    case "DELETING":
                        values.Remove(parts[1]); // may be destroyed or not: not checked until "DEL"
                        break;
                    case "DEL":
                        values.Remove(parts[1]);
                        destroyed.Add(parts[1]);
                        break;
                }
            }
            acknowledged.Add(count);

            var tail = string.Join(" | ", lines.TakeLast(3));
            IntegrityCheck().Should().Be("ok");
            using (var database = new SqliteSessionDatabase(DbPath)) // opens cleanly, with its own quick_check
            {
                foreach (var (id, keys) in values)
                {
                    var record = await database.LoadAsync(id, CancellationToken.None);
                    record.Should().NotBeNull("session {0} was acknowledged in round {1} (last lines: {2})", id, round, tail);
                    foreach (var (key, value) in keys)
                    {
                        record!.TryGetValue(key, out var stored).Should().BeTrue("{0} of {1} was acknowledged", key, id);
                        // The value after the acknowledged one may have committed just before the kill: never an older one.
                        ((long)stored.Value!).Should().BeGreaterThanOrEqualTo(value, "{0} of {1} was acknowledged at {2}", key, id, value);
                    }
                }
                foreach (var id in destroyed)
                    (await database.LoadAsync(id, CancellationToken.None)).Should().BeNull("the destroy of {0} was acknowledged", id);
            }
        }

        TestContext.Out.WriteLine($"acknowledged commits per round: {string.Join(", ", acknowledged)}; sessions checked: {values.Count}, destroyed: {destroyed.Count}");
        acknowledged.Should().OnlyContain(c => c > 0);
    }

    private string IntegrityCheck()
    {
        using var connection = new SqliteConnection($"Data Source={DbPath};Mode=ReadWrite;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        return (string)command.ExecuteScalar()!;
    }

    private static Process Start(params string[] args)
    {
        File.Exists(CrashWriter).Should().BeTrue("the crash writer is built with the tests ({0})", CrashWriter);
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(CrashWriter);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        return Process.Start(info)!;
    }

    private static async Task<string> RunToEndAsync(params string[] args)
    {
        using var process = Start(args);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = await process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        error.Should().BeEmpty();
        return output.TrimEnd('\n');
    }
}
