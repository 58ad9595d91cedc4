using Sessions.Testing;

namespace Sessions.Core.Tests;

/// <summary>
/// The host's commit before the response starts is not tied to the request's abort: what a request changed is stored
/// even when its client went away before the answer (a logout, a cart line), on a database that stores copies.
/// </summary>
[TestFixture(true)]
[TestFixture(false)]
public sealed class ClientGoneTests(bool asynchronous)
{
    private static CancellationToken Gone()
    {
        using var aborted = new CancellationTokenSource();
        aborted.Cancel();
        return aborted.Token;
    }

    private SessionManager Manager(out CopyingMemoryDatabase database)
    {
        database = new CopyingMemoryDatabase(asynchronous);
        return new SessionManager(new SessionConfig { Database = database });
    }

    [Test]
    public async Task ANewSession_IsStored_WhenTheClientWentAway()
    {
        using var manager = Manager(out _);
        var carrier = new TestCarrier();
        var session = await manager.StartAsync(carrier);
        session.Set("name", "kept");
        carrier.RequestAborted = Gone();

        await carrier.StartResponseAsync();

        carrier.Written.Should().ContainSingle("the session was created, so its cookie was written");
        var next = await manager.StartAsync(new TestCarrier("sid=" + carrier.Written[0].Value));
        next.GetString("name").Should().Be("kept");
    }

    [Test]
    public async Task AWriteOnlyRequest_IsStored_WhenTheClientWentAway()
    {
        using var manager = Manager(out _);
        var first = await manager.StartAsync(new TestCarrier());
        first.Set("name", "before");
        await first.CommitAsync();
        var carrier = new TestCarrier("sid=" + first.Id) { RequestAborted = Gone() };

        manager.StartDeferred(carrier).Set("name", "kept");
        await carrier.StartResponseAsync();

        (await manager.StartAsync(new TestCarrier("sid=" + first.Id))).GetString("name").Should().Be("kept");
    }

    [Test]
    public async Task AnExplicitCommit_StillHonoursTheTokenItIsGiven()
    {
        using var manager = Manager(out var database);
        var session = await manager.StartAsync(new TestCarrier());
        session.Set("name", "never");

        await FluentActions.Awaiting(() => session.CommitAsync(Gone()).AsTask()).Should().ThrowAsync<OperationCanceledException>();
        database.Commits.Should().Be(0);
    }
}
