using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>
/// The manager's metrics, traces, log events and fingerprints, observed with real listeners (<see cref="MetricCapture"/>,
/// <see cref="ActivityCapture"/>, <see cref="LogCapture"/>) while real requests run on real databases. Each manager has
/// its own meter, so parallel tests never see each other's measurements.
/// </summary>
public class TelemetryTests
{
    private const string Database = SessionTelemetry.DatabaseTag;
    private static readonly string UnknownId = new('A', SessionIds.MinLength + 10);

    private static SessionManager Manager(Microsoft.Extensions.Time.Testing.FakeTimeProvider clock, ISessionDatabase? database = null, LogCapture? logs = null, Action<SessionConfig>? configure = null) =>
        NewManager(clock, c =>
        {
            // A sweep that does not run within the test: an expired record is still there to be found by a request.
            c.Database = database ?? new MemorySessionDatabase(clock, sweepInterval: TimeSpan.FromDays(1));
            c.LoggerFactory = logs;
            configure?.Invoke(c);
        });

    [Test]
    public async Task Every_session_event_is_counted_once_tagged_with_the_database()
    {
        var clock = NewClock();
        using var manager = Manager(clock);
        using var metrics = MetricCapture.Of(manager.Telemetry.Meter);

        var first = EstablishedRequest(manager);
        var second = first.NextRequest();
        (await manager.RenewIdAsync(second)).Should().BeTrue();
        (await manager.DestroyAsync(second.NextRequest())).Should().BeTrue();
        var other = EstablishedRequest(manager);
        clock.Advance(manager.Config.IdleTimeout + TimeSpan.FromSeconds(1));
        manager.Start(other.NextRequest()).IsNew.Should().BeTrue();
        await manager.DestroyAllAsync();

        metrics.Sum("sessions.created", (Database, "memory")).Should().Be(2);
        metrics.Sum("sessions.renewed", (Database, "memory")).Should().Be(1);
        metrics.Sum("sessions.destroyed", (Database, "memory")).Should().Be(1, "DestroyAll is not counted: the database does not say how many it ended");
        metrics.Sum("sessions.expired", (Database, "memory")).Should().Be(1);
        metrics.Of("sessions.created").Should().OnlyContain(m => m.Unit == "{session}");
    }

    [Test]
    public async Task Rejected_cookie_values_are_counted_by_reason_as_the_public_counters_count_them()
    {
        var clock = NewClock();
        using var manager = Manager(clock, configure: c => c.Encoder = new PrefixEncoder());
        using var metrics = MetricCapture.Of(manager.Telemetry.Meter);
        var live = new TestCarrier();
        manager.Start(live).Set("k", "v");
        clock.Advance(manager.Config.IdleTimeout + TimeSpan.FromSeconds(1));

        manager.Start(new TestCarrier(CookieHeader("v1.short")));
        manager.Start(new TestCarrier(CookieHeader("not-encoded-by-us")));
        manager.Start(new TestCarrier(CookieHeader("v1." + UnknownId)));
        manager.Start(new TestCarrier(CookieHeader("v1." + UnknownId)));
        manager.Start(live.NextRequest());
        await Task.CompletedTask;

        metrics.Sum("sessions.cookies.rejected", (SessionTelemetry.ReasonTag, "malformed")).Should().Be(manager.Counters.Malformed).And.Be(1);
        metrics.Sum("sessions.cookies.rejected", (SessionTelemetry.ReasonTag, "undecodable")).Should().Be(manager.Counters.Undecodable).And.Be(1);
        metrics.Sum("sessions.cookies.rejected", (SessionTelemetry.ReasonTag, "unknown")).Should().Be(manager.Counters.Unknown).And.Be(2);
        metrics.Sum("sessions.cookies.rejected", (SessionTelemetry.ReasonTag, "expired")).Should().Be(manager.Counters.Expired).And.Be(1);
        metrics.Of("sessions.cookies.rejected").Should().OnlyContain(m => m.Unit == "{cookie}");
    }

    [Test]
    public async Task Loads_and_commits_are_timed_in_seconds_and_the_payload_a_commit_sends_is_measured_in_bytes()
    {
        var clock = NewClock();
        using var manager = Manager(clock, new CopyingMemoryDatabase(asynchronous: true, timeProvider: clock));
        using var metrics = MetricCapture.Of(manager.Telemetry.Meter);
        var first = new TestCarrier();
        (await manager.StartAsync(first)).Set("name", "iris");
        await manager.CommitAsync(first);
        var second = first.NextRequest();
        (await manager.StartAsync(second)).Set("counter", 42);
        await manager.CommitAsync(second);

        var loads = metrics.Of("sessions.load.duration");
        loads.Should().ContainSingle("the first request carried no cookie, so only the second loaded");
        var commits = metrics.Of("sessions.commit.duration");
        commits.Should().HaveCount(2);
        foreach (var m in loads.Concat(commits))
        {
            m.Unit.Should().Be("s");
            m.Value.Should().BeGreaterThan(0).And.BeLessThan(10);
            m.Tag(Database).Should().Be("copyingmemory");
            m.Tag(SessionTelemetry.ErrorTypeTag).Should().BeNull();
        }
        metrics.Of("sessions.payload.size").Select(m => m.Value).Should().Equal(
            SessionValueCodec.PayloadSize("name", SessionValueCodec.Encode("name", new SessionValue("iris", false))),
            SessionValueCodec.PayloadSize("counter", SessionValueCodec.Encode("counter", new SessionValue(42, false))));
        metrics.Of("sessions.payload.size").Should().OnlyContain(m => m.Unit == "By" && (string?)m.Tag(Database) == "copyingmemory");
    }

    [Test]
    public async Task A_refused_commit_and_a_limit_are_timed_with_their_error_type_but_are_not_database_errors()
    {
        var clock = NewClock();
        using var manager = Manager(clock, new CopyingMemoryDatabase(maxSessions: 0, timeProvider: clock));
        using var metrics = MetricCapture.Of(manager.Telemetry.Meter);
        var first = new TestCarrier();
        manager.Start(first).Set("k", "v");

        var commit = async () => await manager.CommitAsync(first);
        await commit.Should().ThrowAsync<SessionLimitExceededException>();

        metrics.Of("sessions.commit.duration").Should().ContainSingle()
            .Which.Tag(SessionTelemetry.ErrorTypeTag).Should().Be(typeof(SessionLimitExceededException).FullName);
        metrics.Of("sessions.database.errors").Should().BeEmpty();
    }

    [Test]
    public async Task Database_calls_are_traced_under_the_current_activity_naming_the_session_by_its_fingerprint()
    {
        var clock = NewClock();
        using var manager = Manager(clock, new CopyingMemoryDatabase(asynchronous: true, timeProvider: clock));
        using var traces = new ActivityCapture();
        var first = new TestCarrier();
        var created = await manager.StartAsync(first);
        created.Set("name", "iris");
        await manager.CommitAsync(first);
        var id = created.Id;
        var second = first.NextRequest();
        await manager.StartAsync(second);
        (await manager.RenewIdAsync(second)).Should().BeTrue();
        var renewedId = second.Session!.Id;
        var third = second.NextRequest();
        (await manager.DestroyAsync(third)).Should().BeTrue();
        Activity.Current.Should().BeSameAs(traces.Root, "the database activities end inside the manager's calls");

        traces.Stopped.Select(a => a.OperationName).Should().Equal("sessions.commit", "sessions.load", "sessions.renew", "sessions.load", "sessions.destroy");
        traces.Stopped.Should().OnlyContain(a => a.ParentId == traces.Root!.Id && a.Kind == ActivityKind.Internal);
        traces.Stopped.Should().OnlyContain(a => (string?)a.GetTagItem(Database) == "copyingmemory");
        traces.Stopped.Select(a => a.GetTagItem(SessionTelemetry.FingerprintTag)).Should().Equal(
            manager.Fingerprint(id), manager.Fingerprint(id), manager.Fingerprint(id), manager.Fingerprint(renewedId), manager.Fingerprint(renewedId));
        traces.Stopped.SelectMany(a => a.TagObjects).Select(t => t.Value?.ToString()).Should().NotContain([id, renewedId]);
    }

    [Test]
    public void Without_a_listener_no_activity_is_created()
    {
        using var manager = Manager(NewClock(), new CopyingMemoryDatabase());
        SessionTelemetry.ActivitySource.HasListeners().Should().BeFalse("no test listens outside an ActivityCapture");
        var first = new TestCarrier();
        manager.Start(first).Set("k", "v");
        Activity.Current.Should().BeNull();
    }

    [Test]
    public void A_fingerprint_is_short_stable_per_manager_keyed_per_manager_and_is_not_the_id()
    {
        using var manager = NewManager();
        using var other = NewManager();
        var request = EstablishedRequest(manager);
        var session = request.Session!;

        var fingerprint = manager.Fingerprint(session.Id);
        fingerprint.Should().HaveLength(11).And.MatchRegex("^[A-Za-z0-9_-]{11}$");
        session.Fingerprint.Should().Be(fingerprint);
        manager.Fingerprint(session.Id).Should().Be(fingerprint);
        other.Fingerprint(session.Id).Should().NotBe(fingerprint, "each manager has its own random key");
        session.Id.Should().NotContain(fingerprint);
        manager.Fingerprint(SessionIds.NewId()).Should().NotBe(fingerprint);
        var nullId = () => manager.Fingerprint(null!);
        nullId.Should().Throw<ArgumentNullException>();
    }

    // ----- logging ------------------------------------------------------------------------------------------------

    [Test]
    public void A_flood_of_bad_cookies_is_logged_at_debug_as_counts_and_no_presented_value_reaches_a_log()
    {
        var clock = NewClock();
        var logs = new LogCapture();
        using var manager = Manager(clock, logs: logs);
        var presented = new List<string>();
        var live = new TestCarrier();
        manager.Start(live).Set("k", "v");
        presented.Add(live.Session!.Id);
        for (var i = 0; i < 50; i++)
        {
            var guess = SessionIds.NewId();
            presented.Add(guess);
            manager.Start(new TestCarrier($"sid=bad{i}!; sid={guess}; sid={live.Session.Id}")).GetString("k").Should().Be("v");
        }

        var rejected = logs.WithId(5);
        rejected.Should().OnlyContain(e => e.Level == LogLevel.Debug && e.EventId.Name == "SessionCookiesRejected" && e.Category == "Sessions.SessionManager");
        rejected.Where(e => (string?)e.Value("Reason") == "unknown").Sum(e => (int)e.Value("Count")!).Should().Be(50);
        rejected.Where(e => (string?)e.Value("Reason") == "malformed").Sum(e => (int)e.Value("Count")!).Should().Be(50);
        NoIdIn(logs, presented);
    }

    [Test]
    public async Task A_commit_refused_because_another_request_ended_the_session_is_logged_once_by_fingerprint()
    {
        var clock = NewClock();
        var logs = new LogCapture();
        using var manager = Manager(clock, new CopyingMemoryDatabase(timeProvider: clock), logs);
        var first = new TestCarrier();
        manager.Start(first).Set("k", "v");
        await manager.CommitAsync(first);
        var id = first.Session!.Id;
        var stale = first.NextRequest();
        manager.Start(stale).Set("late", "write");
        (await manager.DestroyByIdAsync(id)).Should().BeTrue();

        var commit = async () => await manager.CommitAsync(stale);
        await commit.Should().ThrowAsync<SessionEndedException>();

        var ended = logs.WithId(2).Should().ContainSingle().Subject;
        ended.Level.Should().Be(LogLevel.Information);
        ended.EventId.Name.Should().Be("SessionEnded");
        ended.Value("Fingerprint").Should().Be(manager.Fingerprint(id));
        logs.Entries.Should().ContainSingle(e => e.Level >= LogLevel.Information);
        NoIdIn(logs, [id]);
    }

    [Test]
    public async Task Limits_are_logged_once_as_warnings_a_limit_a_commit_ran_into_and_a_full_database()
    {
        var clock = NewClock();
        var logs = new LogCapture();
        using var copies = Manager(clock, new CopyingMemoryDatabase(maxSessions: 0, timeProvider: clock), logs);
        var big = new TestCarrier();
        copies.Start(big).Set("k", "v");
        var commit = async () => await copies.CommitAsync(big);
        await commit.Should().ThrowAsync<SessionLimitExceededException>();

        using var full = Manager(clock, new MemorySessionDatabase(clock, maxSessions: 1), logs);
        EstablishedRequest(full);
        var refused = () => full.Start(new TestCarrier()).Set("k", "v");
        refused.Should().Throw<SessionLimitExceededException>().Which.IsDatabaseFull.Should().BeTrue();

        var limit = logs.WithId(3).Should().ContainSingle().Subject;
        limit.Level.Should().Be(LogLevel.Warning);
        limit.Value("Fingerprint").Should().Be(copies.Fingerprint(big.Session!.Id));
        ((string)limit.Value("Reason")!).Should().Contain("maximum");
        var fullEvent = logs.WithId(4).Should().ContainSingle().Subject;
        fullEvent.Level.Should().Be(LogLevel.Warning);
        fullEvent.Value("Database").Should().Be("memory");
        NoIdIn(logs, [big.Session!.Id]);
    }

    [Test]
    public void Event_ids_are_unique_and_every_one_is_documented()
    {
        var events = typeof(SessionLog).GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Select(m => m.GetCustomAttributes(typeof(LoggerMessageAttribute), false).Cast<LoggerMessageAttribute>().SingleOrDefault())
            .OfType<LoggerMessageAttribute>()
            .ToList();
        events.Should().HaveCountGreaterThanOrEqualTo(6);
        events.Select(e => e.EventId).Should().OnlyHaveUniqueItems();
        events.Select(e => e.EventName).Should().OnlyHaveUniqueItems();
        var doc = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "observability.md"));
        foreach (var e in events)
            doc.Should().Contain($"| {e.EventId} | `{e.EventName}` | {e.Level} |", $"event {e.EventId} is documented with its name and level");
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Sessions.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("Sessions.sln not found above " + AppContext.BaseDirectory);
    }

    private static void NoIdIn(LogCapture logs, IEnumerable<string> ids)
    {
        var text = logs.AllText().ToList();
        text.Should().NotBeEmpty();
        foreach (var id in ids)
            text.Should().NotContain(t => t.Contains(id, StringComparison.Ordinal), "a session ID never appears in a log");
    }

    private sealed class PrefixEncoder : ISessionIdEncoder
    {
        public string Encode(string cookieName, string sessionId) => "v1." + sessionId;

        public bool TryDecode(string cookieName, string cookieValue, out string sessionId)
        {
            sessionId = cookieValue.StartsWith("v1.", StringComparison.Ordinal) ? cookieValue[3..] : string.Empty;
            return sessionId.Length > 0;
        }
    }
}
