namespace Sessions.Testing;

/// <content>
/// Sessions started without loading (<see cref="SessionManager.StartDeferred"/>): a request that only writes commits into
/// the cookie's session only while it is live, and otherwise into a new session with its own cookie; it never adopts an
/// unknown ID, never brings back a destroyed or expired session, and the database checks what the load would have.
/// On a database of live records StartDeferred is Start, and every test holds as it is.
/// </content>
public abstract partial class SessionDatabaseContract
{
    [Test]
    public async Task Deferred_WriteOnlyRequest_CommitsIntoTheCookiesSession_AndSendsNoNewCookie()
    {
        var id = await CreateSessionAsync(s => s.Set("a", 1));

        var carrier = Request(id);
        var session = Manager.StartDeferred(carrier);
        session.IsLoaded.Should().Be(Database.SharesRecords, "only a database of live records finds the session at once");
        session.Set("b", "two");
        session.GetString("b").Should().Be("two", "a key the request wrote is read back from its own changes");
        await carrier.StartResponseAsync();

        carrier.Written.Should().BeEmpty("the cookie already names the session");
        var stored = await LoadAsync(id);
        stored.GetInt32("a").Should().Be(1);
        stored.GetString("b").Should().Be("two");
    }

    [Test]
    public async Task Deferred_UnknownCookie_StoresTheWritesAsANewSession_WithItsOwnCookie_AndNeverAdoptsTheId()
    {
        var unknown = SessionIds.NewId();
        var created = new List<SessionEventArgs>();
        Manager.Created += (_, e) => created.Add(e);

        var carrier = Request(unknown);
        var session = Manager.StartDeferred(carrier);
        session.Set("name", "iris");
        await carrier.StartResponseAsync();

        (await Database.LoadAsync(unknown, CancellationToken.None)).Should().BeNull("an unknown ID is never adopted");
        var cookie = carrier.Written.Should().ContainSingle("the new session sends its cookie").Subject;
        cookie.Value.Should().NotBe(unknown).And.Be(session.Id);
        created.Should().ContainSingle().Which.SessionId.Should().Be(cookie.Value);
        (await LoadAsync(cookie.Value)).GetString("name").Should().Be("iris");
    }

    [Test]
    public async Task Deferred_WriteToADestroyedSession_IsNotResurrected_AndGoesToANewSession()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        (await Manager.DestroyByIdAsync(id)).Should().BeTrue();

        var carrier = Request(id);
        Manager.StartDeferred(carrier).Set("late", "write");
        await carrier.StartResponseAsync();

        (await Database.LoadAsync(id, CancellationToken.None)).Should().BeNull("a destroyed session stays destroyed");
        var cookie = carrier.Written.Should().ContainSingle().Subject;
        cookie.Value.Should().NotBe(id);
        var fresh = await LoadAsync(cookie.Value);
        fresh.GetString("late").Should().Be("write");
        fresh.Get("name").Should().BeNull("nothing of the destroyed session is carried over");
    }

    [Test]
    public async Task Deferred_WriteToAnExpiredSession_IsNotResurrected_EvenWhileTheDatabaseStillHoldsIt()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        Time.Advance(IdleTimeout + TimeSpan.FromSeconds(1));

        var carrier = Request(id);
        Manager.StartDeferred(carrier).Set("late", "write");
        await carrier.StartResponseAsync();

        var cookie = carrier.Written.Should().ContainSingle("the write goes to a new session").Subject;
        cookie.Value.Should().NotBe(id);
        var old = await Database.LoadAsync(id, CancellationToken.None);
        if (old is not null)
        {
            old.IsExpired(Time.GetUtcNow()).Should().BeTrue("the expired session's deadline was not moved");
            old.TryGetValue("late", out _).Should().BeFalse("nothing was written into the expired session");
        }
        var fresh = await LoadAsync(cookie.Value);
        fresh.GetString("late").Should().Be("write");
        fresh.Get("name").Should().BeNull();
    }

    [Test]
    public async Task Deferred_ReadingWhatTheRequestDidNotWrite_NeedsLoadAsync_WhichKeepsTheRequestsWrites()
    {
        var id = await CreateSessionAsync(s =>
        {
            s.Set("a", 1);
            s.Set("b", "stored");
        });

        var carrier = Request(id);
        var session = Manager.StartDeferred(carrier);
        session.Set("b", "mine");
        session.SetFlash("notice", "hello");
        if (!Database.CompletesSynchronously)
        {
            session.Invoking(s => s.GetInt32("a")).Should().Throw<InvalidOperationException>().WithMessage("*'a'*LoadAsync*");
            session.Invoking(s => s.Id).Should().Throw<InvalidOperationException>().WithMessage("*Id*LoadAsync*");
            session.Invoking(s => s.GetFlashes()).Should().Throw<InvalidOperationException>().WithMessage("*flashes*LoadAsync*");
        }
        session.GetString("b").Should().Be("mine");

        await session.LoadAsync();
        session.IsLoaded.Should().BeTrue();
        session.IsNew.Should().BeFalse();
        session.Id.Should().Be(id);
        session.GetInt32("a").Should().Be(1);
        session.GetString("b").Should().Be("mine", "the request's own write stays on top of the stored value");
        session.GetAll().Keys.Should().Equal("a", "b");
        (await Manager.StartAsync(carrier)).Should().BeSameAs(session);
        await carrier.StartResponseAsync();

        carrier.Written.Should().BeEmpty();
        var next = await LoadAsync(id);
        next.GetString("b").Should().Be("mine");
        next.GetFlashString("notice").Should().Be("hello");
    }

    [Test]
    public async Task Deferred_LoadAsyncOnAnUnknownCookie_GivesANewSession_HoldingTheRequestsWrites()
    {
        var unknown = SessionIds.NewId();
        var carrier = Request(unknown);
        var session = Manager.StartDeferred(carrier);
        session.Set("name", "iris");

        await session.LoadAsync();
        session.IsLoaded.Should().BeTrue();
        session.Id.Should().NotBe(unknown);
        session.GetString("name").Should().Be("iris");
        await carrier.StartResponseAsync();

        carrier.Written.Should().ContainSingle().Which.Value.Should().Be(session.Id);
        (await Database.LoadAsync(unknown, CancellationToken.None)).Should().BeNull();
    }

    [Test]
    public async Task Deferred_PlainSetOverAStoredImmutableValue_IsRefused_AndTheValueStays()
    {
        var id = await CreateSessionAsync(s => s.SetImmutable("models", ContractModel.Defaults()));

        var carrier = Request(id);
        var session = Manager.StartDeferred(carrier);
        var write = async () =>
        {
            session.Set("models", "overwritten");
            await session.CommitAsync();
        };

        (await write.Should().ThrowAsync<SessionImmutableValueException>()).Which.Key.Should().Be("models");
        carrier.Written.Should().BeEmpty();
        var stored = await LoadAsync(id);
        stored.Get<List<ContractModel>>("models").Select(m => m.Name).Should().Equal("Edward", "value 2");
    }

    [Test]
    public async Task Deferred_SetImmutableOverAStoredImmutableValue_ReplacesIt()
    {
        var id = await CreateSessionAsync(s => s.SetImmutable("models", ContractModel.Defaults()));

        var carrier = Request(id);
        Manager.StartDeferred(carrier).SetImmutable("models", new List<ContractModel> { new() { Name = "Ada" } });
        await carrier.StartResponseAsync();

        (await LoadAsync(id)).Get<List<ContractModel>>("models").Select(m => m.Name).Should().Equal("Ada");
    }

    [Test]
    public async Task Deferred_NewKeysPastMaxKeys_AreRefused_AndNothingIsWritten()
    {
        var manager = CreateManager(c => c.MaxKeys = 3);
        var first = new TestCarrier();
        var created = await manager.StartAsync(first);
        created.Set("a", 1);
        created.Set("b", 2);
        created.Set("c", 3);
        await created.CommitAsync();
        var id = created.Id;

        var carrier = Request(id);
        var session = manager.StartDeferred(carrier);
        var write = async () =>
        {
            session.Set("c", 30); // replaces a key: allowed
            session.Set("d", 4);  // a fourth key
            await session.CommitAsync();
        };

        await write.Should().ThrowAsync<SessionLimitExceededException>().WithMessage("*MaxKeys*");
        var stored = await manager.StartAsync(Request(id));
        stored.GetAll().Keys.Should().Equal("a", "b", "c");
        stored.Get("d").Should().BeNull();

        var replacing = Request(id);
        manager.StartDeferred(replacing).Set("c", 30);
        await replacing.StartResponseAsync();
        (await manager.StartAsync(Request(id))).GetInt32("c").Should().Be(30, "a write that adds no key passes at the limit");
    }

    [Test]
    public async Task Deferred_Commit_MovesTheIdleDeadline_OnlyOnceATenthOfTheIdleTimeoutHasPassed()
    {
        var id = await CreateSessionAsync(s => s.Set("n", 0));
        var createdIdle = (await Database.LoadAsync(id, CancellationToken.None))!.IdleDeadline;

        Time.Advance(TimeSpan.FromMinutes(1));
        var soon = Request(id);
        Manager.StartDeferred(soon).Set("n", 1);
        await soon.StartResponseAsync();
        var idle = (await Database.LoadAsync(id, CancellationToken.None))!.IdleDeadline;
        if (Database.SharesRecords)
            idle.Should().Be(Time.GetUtcNow() + IdleTimeout, "a live record's deadline moves on every use");
        else
            idle.Should().Be(createdIdle, "one minute is less than a tenth of the idle timeout");

        Time.Advance(TimeSpan.FromMinutes(4));
        var later = Request(id);
        Manager.StartDeferred(later).Set("n", 2);
        await later.StartResponseAsync();
        (await Database.LoadAsync(id, CancellationToken.None))!.IdleDeadline.Should().Be(Time.GetUtcNow() + IdleTimeout);
    }

    [Test]
    public async Task Deferred_WriteToASignedInSession_KeepsItListed_WithItsNewLastSeen()
    {
        if (!await IndexesUsersAsync())
            return;
        var id = await SignInAsync("ada");

        Time.Advance(TimeSpan.FromMinutes(10));
        var carrier = Request(id);
        Manager.StartDeferred(carrier).Set("cart", 3);
        await carrier.StartResponseAsync();

        Time.Advance(IdleTimeout - TimeSpan.FromMinutes(5)); // past the sign-in's idle deadline, within the write's
        var listed = await Manager.ListUserSessionsAsync("ada");
        listed.Should().ContainSingle().Which.LastSeen.Should().Be(Time.GetUtcNow() - IdleTimeout + TimeSpan.FromMinutes(5));
        var session = await LoadAsync(id);
        session.User.Should().Be("ada");
        session.GetInt32("cart").Should().Be(3);
    }

    [Test]
    public async Task Deferred_WithDecoysBeforeTheRealCookie_CommitsIntoTheLiveSession()
    {
        var id = await CreateSessionAsync(s => s.Set("a", 1));
        var carrier = new TestCarrier($"{SessionConfig.DefaultCookieName}={SessionIds.NewId()}; {SessionConfig.DefaultCookieName}={id}");

        Manager.StartDeferred(carrier).Set("b", 2);
        await carrier.StartResponseAsync();

        carrier.Written.Should().BeEmpty();
        (await LoadAsync(id)).GetInt32("b").Should().Be(2);
    }

    [Test]
    public async Task Deferred_RequestThatDoesNothing_WritesNothing()
    {
        var id = await CreateSessionAsync(s => s.Set("a", 1));
        var before = (await Database.LoadAsync(id, CancellationToken.None))!.IdleDeadline;
        Time.Advance(TimeSpan.FromMinutes(10));

        var carrier = Request(id);
        Manager.StartDeferred(carrier);
        await carrier.StartResponseAsync();

        carrier.Written.Should().BeEmpty();
        if (!Database.SharesRecords)
            (await Database.LoadAsync(id, CancellationToken.None))!.IdleDeadline.Should().Be(before, "a request that touched nothing did not use the session");
    }
}
