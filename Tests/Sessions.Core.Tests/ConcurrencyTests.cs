using System.Collections.Concurrent;
using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>
/// Concurrent requests of one session (each its own carrier with
/// the same cookie), Destroy and RenewId racing them, and event handlers calling back into the manager. Completion is
/// asserted with timeouts, never sleeps.
/// </summary>
public class ConcurrencyTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Test]
    public async Task ParallelRequestsOnOneSession_WritingDistinctKeys_LoseNothing()
    {
        using var manager = NewManager(configure: c => c.MaxKeys = 10_000);
        var cookie = EstablishedRequest(manager, "seed", 0).NextRequest().CookieHeader;
        const int Requests = 64;
        const int KeysPerRequest = 50;

        var work = Enumerable.Range(0, Requests).Select(r => Task.Run(() =>
        {
            var request = new TestCarrier(cookie);
            var session = manager.Start(request);
            for (var k = 0; k < KeysPerRequest; k++)
            {
                session.Set($"r{r}-k{k}", k);
                _ = session.GetAll();
                _ = session.Get($"r{r}-k{k / 2}");
            }
            request.Written.Should().BeEmpty();
        }));
        await Task.WhenAll(work).WaitAsync(Timeout);

        var all = manager.Start(new TestCarrier(cookie)).GetAll();
        all.Should().HaveCount(Requests * KeysPerRequest + 1);
        for (var r = 0; r < Requests; r++)
            all[$"r{r}-k{KeysPerRequest - 1}"].Should().Be(KeysPerRequest - 1);
    }

    [Test]
    public async Task ParallelIncrements_OnOneSession_AreAtomic()
    {
        using var manager = NewManager();
        var cookie = EstablishedRequest(manager).NextRequest().CookieHeader;

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() =>
        {
            var session = manager.Start(new TestCarrier(cookie));
            for (var i = 0; i < 100; i++)
                session.Increment("counter");
        }))).WaitAsync(Timeout);

        manager.Start(new TestCarrier(cookie)).GetInt32("counter").Should().Be(2000);
    }

    [Test]
    public async Task ParallelFirstWrites_OnOneNewSession_EstablishItOnce()
    {
        using var manager = NewManager();
        var created = 0;
        manager.Created += (_, _) => Interlocked.Increment(ref created);
        var request = new TestCarrier();
        var session = manager.Start(request);

        await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() => session.Set($"k{i}", i)))).WaitAsync(Timeout);

        created.Should().Be(1);
        lock (request.Written)
            request.Written.Should().ContainSingle();
        session.Count.Should().Be(16);
    }

    [Test]
    public async Task DestroyRacingWritesAndStarts_NeverThrowsAnythingButTheDocumentedExceptions()
    {
        for (var round = 0; round < 20; round++)
        {
            using var manager = NewManager();
            var cookie = EstablishedRequest(manager).NextRequest().CookieHeader;
            var unexpected = new ConcurrentQueue<Exception>();
            using var start = new ManualResetEventSlim();

            var writers = Enumerable.Range(0, 8).Select(w => Task.Run(() =>
            {
                start.Wait();
                for (var i = 0; i < 200; i++)
                {
                    var request = new TestCarrier(cookie);
                    var session = manager.Start(request);
                    try
                    {
                        session.Set($"w{w}", i);
                        session.Increment("n");
                        session.SetFlash("f", i);
                        _ = session.GetFlash("f");
                        _ = session.GetAll();
                        session.VisitAll((_, _) => { });
                        session.Delete($"w{w}");
                        if (i % 50 == 0)
                            manager.ShiftExpiration(request);
                    }
                    catch (InvalidOperationException) when (session.IsDestroyed)
                    {
                        // Documented: a session destroyed in its own request refuses writes.
                    }
                    catch (SessionEndedException)
                    {
                        // Documented: a write to a session another request destroyed is refused and reported.
                    }
                    catch (Exception e)
                    {
                        unexpected.Enqueue(e);
                    }
                }
            }));
            var destroyers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
            {
                start.Wait();
                try
                {
                    var request = new TestCarrier(cookie);
                    manager.Destroy(request);
                    manager.RenewId(new TestCarrier(cookie));
                    manager.DestroyById(manager.Start(new TestCarrier(cookie)).Id);
                    manager.DestroyAll();
                }
                catch (Exception e)
                {
                    unexpected.Enqueue(e);
                }
            }));
            var all = writers.Concat(destroyers).ToList();
            start.Set();
            await Task.WhenAll(all).WaitAsync(Timeout);

            unexpected.Should().BeEmpty();
        }
    }

    [Test]
    public async Task DestroyInOwnRequest_ThenConcurrentWritesInThatRequest_ThrowOnlyInvalidOperationException()
    {
        using var manager = NewManager();
        var request = EstablishedRequest(manager).NextRequest();
        var session = manager.Start(request);
        manager.Destroy(request);
        var outcomes = new ConcurrentBag<Type>();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
        {
            try
            {
                session.Set($"k{i}", i);
                outcomes.Add(typeof(void));
            }
            catch (Exception e)
            {
                outcomes.Add(e.GetType());
            }
        }))).WaitAsync(Timeout);

        outcomes.Should().HaveCount(8).And.OnlyContain(t => t == typeof(InvalidOperationException));
    }

    [Test]
    public async Task ManySessionsInParallel_WithGetAllDestroyAndStartOfOthers_CompleteWithoutExceptionsOrLostKeys()
    {
        using var manager = NewManager();
        var cookies = Enumerable.Range(0, 16).Select(_ => EstablishedRequest(manager).NextRequest().CookieHeader).ToList();

        var writers = cookies.Select(cookie => Task.Run(() =>
        {
            var session = manager.Start(new TestCarrier(cookie));
            for (var i = 0; i < 200; i++)
                session.Set($"k{i}", i);
            return session.Count;
        })).ToList();
        var churn = Task.Run(() =>
        {
            for (var i = 0; i < 200; i++)
            {
                var request = EstablishedRequest(manager);
                _ = manager.Start(request).GetAll();
                manager.Destroy(request);
            }
        });

        await Task.WhenAll(writers.Cast<Task>().Append(churn)).WaitAsync(Timeout);

        writers.Select(w => w.Result).Should().OnlyContain(count => count == 201);
        foreach (var cookie in cookies)
            manager.Start(new TestCarrier(cookie)).Count.Should().Be(201);
    }

    [Test]
    public async Task DestroyedHandlerCallingDestroyById_OnAnotherThreadWhileWritesRun_DoesNotDeadlock()
    {
        using var manager = NewManager();
        var ids = Enumerable.Range(0, 20).Select(_ => manager.Start(EstablishedRequest(manager)).Id).ToList();
        var next = 0;
        manager.Destroyed += (_, e) =>
        {
            // Each destroy cascades into the next one, from inside the handler.
            var index = Interlocked.Increment(ref next);
            if (index < ids.Count)
                manager.DestroyById(ids[index]);
        };
        var writers = ids.Select(id => Task.Run(() =>
        {
            var session = manager.Start(new TestCarrier(CookieHeader(id)));
            for (var i = 0; i < 100; i++)
                session.Set("k", i);
        }));

        var cascade = Task.Run(() => manager.DestroyById(ids[0]));

        await Task.WhenAll(writers.Append(cascade)).WaitAsync(Timeout);
        next.Should().Be(ids.Count, "the cascade ran through every session");
        foreach (var id in ids)
            (await manager.Database.LoadAsync(id, default)).Should().BeNull();
    }

    [Test]
    public async Task CreatedHandlerDestroyingTheNewSession_DoesNotDeadlock()
    {
        using var manager = NewManager();
        manager.Created += (_, e) => manager.DestroyById(e.SessionId!).Should().BeTrue();
        var request = new TestCarrier();

        await Task.Run(() => manager.Start(request).Set("k", 1)).WaitAsync(Timeout);

        StoredSessions(manager).Should().Be(0);
    }

    [Test]
    public async Task ExpiredHandlerFromTheSweeper_CallingBackIntoTheManager_DoesNotDeadlock()
    {
        var clock = NewClock();
        using var manager = NewManager(clock, c => c.Expires = TimeSpan.FromMinutes(1));
        var handled = 0;
        manager.Destroyed += (_, e) =>
        {
            if (e.Reason != SessionEventReason.Expired)
                return;
            Interlocked.Increment(ref handled);
            manager.DestroyAll();
            manager.Start(new TestCarrier()).Set("from-handler", 1);
        };
        EstablishedRequest(manager);
        EstablishedRequest(manager);

        await Task.Run(() => clock.Advance(TimeSpan.FromMinutes(2))).WaitAsync(Timeout);

        handled.Should().BeGreaterThanOrEqualTo(1);
    }

    [Test]
    public async Task RenewIdRacingWrites_OnlyReportTheEndedSession_AndTheRenewedSessionKeepsTheData()
    {
        using var manager = NewManager();
        var first = EstablishedRequest(manager, "keep", "me");
        var cookie = first.NextRequest().CookieHeader;
        var renewer = new TestCarrier(cookie);
        var unexpected = new ConcurrentQueue<Exception>();

        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < 100; i++)
            {
                try
                {
                    manager.Start(new TestCarrier(cookie)).Set($"w{w}", i);
                }
                catch (SessionEndedException)
                {
                    // Documented: a request that started before the renewal and writes after it is told its session ended.
                }
                catch (Exception e)
                {
                    unexpected.Enqueue(e);
                }
            }
        }));
        var renew = Task.Run(() => manager.RenewId(renewer));

        await Task.WhenAll(writers.Append(renew)).WaitAsync(Timeout);

        unexpected.Should().BeEmpty();
        manager.Start(renewer.NextRequest()).Get("keep").Should().Be("me");
    }
}
