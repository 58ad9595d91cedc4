using System.Text.Json;

namespace Sessions.Testing;

/// <content>
/// The contract of what came after the go-sessions port: the header transport, the session's own Destroy and Lifetime,
/// 64-bit counters, the swappable serialiser and DestroyAll's events, on every database.
/// </content>
public abstract partial class SessionDatabaseContract
{
    /// <summary>A fields-only model: System.Text.Json's defaults store it as <c>{}</c>, <c>IncludeFields</c> keeps its data.</summary>
    public sealed class FieldsModel
    {
        /// <summary>A field.</summary>
        public long Value;
    }

    [Test]
    public async Task HeaderTransport_CreatesLoadsRenewsAndDestroys_WithoutACookie()
    {
        var manager = CreateManager(c => c.Transport = SessionTransport.Header());
        var first = new TestCarrier();
        var created = await manager.StartAsync(first);
        created.Set("name", "iris");
        await created.CommitAsync();
        var id = first.ResponseHeader(SessionTransport.DefaultHeaderName);
        id.Should().Be(created.Id);

        var renewing = HeaderRequest(id!);
        var session = await manager.StartAsync(renewing);
        session.GetString("name").Should().Be("iris");
        (await manager.RenewIdAsync(renewing)).Should().BeTrue();
        await session.CommitAsync();
        var renewed = renewing.ResponseHeader(SessionTransport.DefaultHeaderName)!;
        renewed.Should().NotBe(id);
        (await Database.LoadAsync(id!, CancellationToken.None)).Should().BeNull("the old ID is gone");

        var destroying = HeaderRequest(renewed);
        (await (await manager.StartAsync(destroying)).DestroyAsync()).Should().BeTrue();
        destroying.ResponseHeader(SessionTransport.DefaultHeaderName).Should().BeEmpty();
        (await Database.LoadAsync(renewed, CancellationToken.None)).Should().BeNull();
        new[] { first, renewing, destroying }.Should().OnlyContain(c => c.Written.Count == 0, "header mode writes no cookie");
    }

    [Test]
    public async Task SessionDestroyAsync_DeletesTheStoredSession_AndExpireNowRaisesExpired()
    {
        var events = new List<SessionEventArgs>();
        Manager.Destroyed += (_, e) => events.Add(e);
        var destroyed = await CreateSessionAsync(s => s.Set("k", 1));
        var expired = await CreateSessionAsync(s => s.Set("k", 2));

        (await (await LoadAsync(destroyed)).DestroyAsync()).Should().BeTrue();
        var session = await LoadAsync(expired);
        session.Lifetime.TimeLeft.Should().BePositive();
        (await session.Lifetime.ExpireNowAsync()).Should().BeTrue();

        (await Database.LoadAsync(destroyed, CancellationToken.None)).Should().BeNull();
        (await Database.LoadAsync(expired, CancellationToken.None)).Should().BeNull();
        events.Select(e => (e.Reason, e.SessionId)).Should().Equal((SessionEventReason.Destroyed, destroyed), (SessionEventReason.Expired, expired));
    }

    [Test]
    public async Task Lifetime_ShowsTheStoredDeadlines()
    {
        var id = await CreateSessionAsync(s => s.Set("k", 1));
        Time.Advance(TimeSpan.FromMinutes(10));

        var lifetime = (await LoadAsync(id)).Lifetime;

        lifetime.AbsoluteDeadline.Should().Be(Time.GetUtcNow() - TimeSpan.FromMinutes(10) + Expires);
        lifetime.IdleDeadline.Should().BeOnOrAfter(Time.GetUtcNow() + IdleTimeout - TimeSpan.FromMinutes(10));
        lifetime.TimeLeft.Should().BeGreaterThan(TimeSpan.FromMinutes(19)).And.BeLessThanOrEqualTo(IdleTimeout);
    }

    [Test]
    public async Task Counters_Are64Bit_AcrossRequests()
    {
        var id = await CreateSessionAsync(s => s.Increment("c", int.MaxValue));

        (await RequestAsync(id, s => s.Increment("c"))).Should().Be(int.MaxValue + 1L);
        var session = await LoadAsync(id);
        session.GetInt64("c").Should().Be(int.MaxValue + 1L);
        session.Invoking(s => s.GetInt32("c")).Should().Throw<SessionValueConversionException>().WithMessage("*'c'*GetInt64*");
    }

    [Test]
    public async Task SerializerOptions_StoreAndReadValues()
    {
        var options = new JsonSerializerOptions { IncludeFields = true };
        var manager = CreateManager(c => c.SerializerOptions = options);
        var carrier = new TestCarrier();
        var session = await manager.StartAsync(carrier);
        session.Set("m", new FieldsModel { Value = 42 });
        session.SetImmutable("i", new FieldsModel { Value = 7 });
        await session.CommitAsync();

        var next = await manager.StartAsync(carrier.NextRequest());
        next.Get<FieldsModel>("m").Value.Should().Be(42);
        next.Get<FieldsModel>("i").Value.Should().Be(7);
    }

    [Test]
    public async Task DestroyAll_RaisesOneEventPerSession_WhereTheDatabaseCanNameThem_ElseOneUnnamed()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
            ids.Add(await CreateSessionAsync(s => s.Set("n", i)));
        var events = new List<SessionEventArgs>();
        Manager.Destroyed += (_, e) => events.Add(e);

        if (!CanDestroyAll)
        {
            var destroyAll = async () => await Manager.DestroyAllAsync();
            await destroyAll.Should().ThrowAsync<NotSupportedException>();
            events.Should().BeEmpty("nothing was destroyed");
            return;
        }
        await Manager.DestroyAllAsync();

        events.Should().OnlyContain(e => e.Reason == SessionEventReason.DestroyedAll);
        if (Database is ISessionDestroyAllListing)
            events.Select(e => e.SessionId).Should().BeEquivalentTo(ids);
        else
            events.Should().ContainSingle().Which.SessionId.Should().BeNull("a database of hashed IDs cannot name its sessions");
    }

    /// <summary>A request carrying <paramref name="id"/> in the session header only.</summary>
    protected static TestCarrier HeaderRequest(string id)
    {
        var carrier = new TestCarrier();
        carrier.RequestHeaders[SessionTransport.DefaultHeaderName] = id;
        return carrier;
    }
}
