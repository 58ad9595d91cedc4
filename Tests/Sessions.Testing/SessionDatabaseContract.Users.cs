namespace Sessions.Testing;

/// <content>Users and devices: every database indexes sessions by user, exactly, through renew, destroy and expiry.</content>
public abstract partial class SessionDatabaseContract
{
    /// <summary>One cookieless request that signs in as <paramref name="user"/> (renew, then bind) on <paramref name="manager"/>; returns the session ID.</summary>
    protected async Task<string> SignInAsync(string user, SessionManager? manager = null)
    {
        manager ??= Manager;
        var carrier = new TestCarrier();
        var session = await manager.StartAsync(carrier);
        await manager.RenewIdAsync(carrier);
        session.Set("authenticated", true);
        session.SetUser(user);
        await session.CommitAsync();
        return session.Id;
    }

    /// <summary>
    /// Whether the database indexes users (<see cref="IUserSessionIndex"/>). When it does not, checks that a sign-in and a
    /// listing fail with <see cref="NotSupportedException"/> naming the database, and the test ends there.
    /// </summary>
    protected async Task<bool> IndexesUsersAsync()
    {
        if (Database is IUserSessionIndex)
            return true;
        var session = await Manager.StartAsync(new TestCarrier());
        session.Invoking(s => s.SetUser("alice")).Should().Throw<NotSupportedException>().WithMessage($"*{Database.GetType().Name}*");
        await Manager.Invoking(m => m.ListUserSessionsAsync("alice").AsTask()).Should().ThrowAsync<NotSupportedException>().WithMessage($"*{Database.GetType().Name}*");
        return false;
    }

    [Test]
    public async Task SignIn_ListsTheSession_WithAHandleThatIsNotTheId()
    {
        if (!await IndexesUsersAsync())
            return;
        var id = await SignInAsync("alice");

        var sessions = await Manager.ListUserSessionsAsync("alice");

        var listed = sessions.Should().ContainSingle().Subject;
        listed.Handle.Should().NotBe(id).And.Be(SessionIds.HashText(id)).And.NotContain(id);
        listed.Created.Should().Be(Time.GetUtcNow());
        listed.LastSeen.Should().Be(Time.GetUtcNow());
        listed.IsCurrent.Should().BeFalse("no request asked");
        (await LoadAsync(id)).User.Should().Be("alice");
        (await Manager.ListUserSessionsAsync("bob")).Should().BeEmpty();
    }

    [Test]
    public async Task ListFromARequest_IsNewestFirst_AndMarksTheCurrentSession()
    {
        if (!await IndexesUsersAsync())
            return;
        var first = await SignInAsync("alice");
        Time.Advance(TimeSpan.FromMinutes(1));
        var second = await SignInAsync("alice");
        Time.Advance(TimeSpan.FromMinutes(1));
        var third = await SignInAsync("alice");
        await SignInAsync("bob");

        var sessions = await Manager.ListUserSessionsAsync(Request(second));

        sessions.Select(s => s.Handle).Should().Equal(SessionIds.HashText(third), SessionIds.HashText(second), SessionIds.HashText(first));
        sessions.Select(s => s.IsCurrent).Should().Equal(false, true, false);
        sessions[2].Created.Should().Be(Time.GetUtcNow() - TimeSpan.FromMinutes(2));
    }

    [Test]
    public async Task ListFromARequestNotSignedIn_IsEmpty()
    {
        if (!await IndexesUsersAsync())
            return;
        await SignInAsync("alice");
        var anonymous = await CreateSessionAsync(s => s.Set("a", 1));

        (await Manager.ListUserSessionsAsync(Request(anonymous))).Should().BeEmpty();
        (await Manager.ListUserSessionsAsync(new TestCarrier())).Should().BeEmpty();
    }

    [Test]
    public async Task LastSeen_FollowsTheIdleRefresh()
    {
        if (!await IndexesUsersAsync())
            return;
        var id = await SignInAsync("alice");
        var signedIn = Time.GetUtcNow();
        Time.Advance(TimeSpan.FromMinutes(10));
        await RequestAsync(id, s => s.GetString("name", ""));
        Time.Advance(TimeSpan.FromMinutes(1));
        await RequestAsync(id, s => s.GetString("name", ""));

        var listed = (await Manager.ListUserSessionsAsync("alice")).Should().ContainSingle().Subject;

        listed.Created.Should().Be(signedIn);
        // Copies refresh the stored idle deadline once a tenth of the idle timeout has passed; live records on every use.
        listed.LastSeen.Should().BeOnOrAfter(signedIn + TimeSpan.FromMinutes(10)).And.BeOnOrBefore(Time.GetUtcNow());
    }

    [Test]
    public async Task DestroyByHandle_WorksOnlyWithinTheUser()
    {
        if (!await IndexesUsersAsync())
            return;
        var alice = await SignInAsync("alice");
        var bob = await SignInAsync("bob");
        var handle = SessionIds.HashText(alice);

        (await Manager.DestroyUserSessionAsync("bob", handle)).Should().BeFalse("a handle of alice's session does nothing for bob");
        (await Manager.DestroyUserSessionAsync(Request(bob), handle)).Should().BeFalse();
        (await Manager.DestroyUserSessionAsync("alice", alice)).Should().BeFalse("a session ID is not a handle of that session");
        (await Manager.DestroyUserSessionAsync("alice", "not a handle")).Should().BeFalse();
        (await Database.LoadAsync(alice, CancellationToken.None)).Should().NotBeNull();

        var events = new List<SessionEventArgs>();
        Manager.Destroyed += (_, e) => events.Add(e);
        (await Manager.DestroyUserSessionAsync("alice", handle)).Should().BeTrue();

        events.Should().ContainSingle().Which.IdHash.Should().Be(handle, "a session revoked by handle is reported by its hash, never its ID");
        events[0].SessionId.Should().BeNull();
        (await Database.LoadAsync(alice, CancellationToken.None)).Should().BeNull();
        (await Manager.ListUserSessionsAsync("alice")).Should().BeEmpty();
        (await Manager.DestroyUserSessionAsync("alice", handle)).Should().BeFalse("it is gone");
        (await Manager.ListUserSessionsAsync("bob")).Should().ContainSingle();
    }

    [Test]
    public async Task DestroyByHandle_FromARequest_RevokesAnotherDevice_AndItsNextRequestIsSignedOut()
    {
        if (!await IndexesUsersAsync())
            return;
        var phone = await SignInAsync("alice");
        var laptop = await SignInAsync("alice");

        (await Manager.DestroyUserSessionAsync(Request(laptop), SessionIds.HashText(phone))).Should().BeTrue();

        var next = await Manager.StartAsync(Request(phone));
        next.IsNew.Should().BeTrue("the revoked session is not adopted");
        next.User.Should().BeNull();
        (await Manager.ListUserSessionsAsync("alice")).Select(s => s.Handle).Should().Equal(SessionIds.HashText(laptop));
    }

    [Test]
    public async Task SignOutOthers_KeepsTheCurrentSession_AndSignOutEverywhere_EndsAll()
    {
        if (!await IndexesUsersAsync())
            return;
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
            ids.Add(await SignInAsync("alice"));
        var bob = await SignInAsync("bob");

        (await Manager.DestroyUserSessionsAsync(Request(ids[1]), keepCurrent: true)).Should().Be(2);

        (await Manager.ListUserSessionsAsync("alice")).Select(s => s.Handle).Should().Equal(SessionIds.HashText(ids[1]));
        (await Database.LoadAsync(ids[0], CancellationToken.None)).Should().BeNull();

        var carrier = Request(ids[1]);
        (await Manager.DestroyUserSessionsAsync(carrier, keepCurrent: false)).Should().Be(1);

        carrier.Written.Should().ContainSingle().Which.IsDeletion.Should().BeTrue("the current session's cookie is expired");
        (await Manager.ListUserSessionsAsync("alice")).Should().BeEmpty();
        (await Database.LoadAsync(ids[1], CancellationToken.None)).Should().BeNull();
        (await Database.LoadAsync(bob, CancellationToken.None)).Should().NotBeNull();
        (await Manager.DestroyUserSessionsAsync("bob")).Should().Be(1);
        (await Manager.ListUserSessionsAsync("bob")).Should().BeEmpty();
    }

    [Test]
    public async Task Renew_MovesTheIndexEntry_AndDestroyRemovesIt()
    {
        if (!await IndexesUsersAsync())
            return;
        var id = await SignInAsync("alice");
        var carrier = Request(id);
        var session = await Manager.StartAsync(carrier);
        (await Manager.RenewIdAsync(carrier)).Should().BeTrue();
        var renewed = session.Id;
        await session.CommitAsync();

        (await Manager.ListUserSessionsAsync("alice")).Select(s => s.Handle).Should().Equal(SessionIds.HashText(renewed));
        (await LoadAsync(renewed)).User.Should().Be("alice");

        (await Manager.DestroyAsync(Request(renewed))).Should().BeTrue();
        (await Manager.ListUserSessionsAsync("alice")).Should().BeEmpty();
        (await Manager.DestroyUserSessionsAsync("alice")).Should().Be(0, "destroy left nothing in the index");
    }

    [Test]
    public async Task DestroyById_AndDestroyAll_CleanTheIndex()
    {
        if (!await IndexesUsersAsync())
            return;
        var first = await SignInAsync("alice");
        await SignInAsync("alice");
        await SignInAsync("bob");

        (await Manager.DestroyByIdAsync(first)).Should().BeTrue();
        (await Manager.ListUserSessionsAsync("alice")).Should().ContainSingle();

        await Manager.DestroyAllAsync();

        (await Manager.ListUserSessionsAsync("alice")).Should().BeEmpty();
        (await Manager.ListUserSessionsAsync("bob")).Should().BeEmpty();
        (await Manager.DestroyUserSessionsAsync("alice")).Should().Be(0);
    }

    [Test]
    public async Task ExpiredSessions_AreNotListed()
    {
        if (!await IndexesUsersAsync())
            return;
        await SignInAsync("alice");
        Time.Advance(IdleTimeout);

        (await Manager.ListUserSessionsAsync("alice")).Should().BeEmpty();
    }

    [Test]
    public async Task SigningInAsAnotherUser_MovesTheSession()
    {
        if (!await IndexesUsersAsync())
            return;
        var id = await SignInAsync("alice");

        await RequestAsync(id, s => s.SetUser("bob"));

        (await Manager.ListUserSessionsAsync("alice")).Should().BeEmpty();
        (await Manager.ListUserSessionsAsync("bob")).Select(s => s.Handle).Should().Equal(SessionIds.HashText(id));
    }

    [Test]
    public async Task DestroyedSession_HasNoUser()
    {
        if (!await IndexesUsersAsync())
            return;
        var id = await SignInAsync("alice");
        var carrier = Request(id);
        var session = await Manager.StartAsync(carrier);
        session.User.Should().Be("alice");

        await Manager.DestroyAsync(carrier);

        session.User.Should().BeNull();
    }

    [Test]
    public async Task MaxSessionsPerUser_KeepsExactlyN()
    {
        if (!await IndexesUsersAsync())
            return;
        var manager = CreateManager(c => c.MaxSessionsPerUser = 2);
        await SignInAsync("alice", manager);
        await SignInAsync("alice", manager);

        (await manager.ListUserSessionsAsync("alice")).Should().HaveCount(2);
    }

    [Test]
    public async Task MaxSessionsPerUser_OneMoreSignIn_EvictsTheLeastRecentlySeen()
    {
        if (!await IndexesUsersAsync())
            return;
        var manager = CreateManager(c => c.MaxSessionsPerUser = 2);
        var first = await SignInAsync("alice", manager);
        Time.Advance(TimeSpan.FromMinutes(1));
        var second = await SignInAsync("alice", manager);
        // The first device is used again later than the second: the second is now the least recently seen.
        Time.Advance(TimeSpan.FromMinutes(5));
        await RequestAsync(first, s => s.GetString("name", ""));
        Time.Advance(TimeSpan.FromMinutes(1));
        var destroyed = new List<SessionEventArgs>();
        manager.Destroyed += (_, e) => destroyed.Add(e);

        var third = await SignInAsync("alice", manager);

        (await manager.ListUserSessionsAsync("alice")).Select(s => s.Handle).Should().BeEquivalentTo([SessionIds.HashText(first), SessionIds.HashText(third)]);
        (await Database.LoadAsync(second, CancellationToken.None)).Should().BeNull();
        destroyed.Should().ContainSingle().Which.SessionId.Should().BeNull("the database holds no ID to report");
    }

    [Test]
    public async Task MaxSessionsPerUser_NeverEvictsTheSessionSigningIn()
    {
        if (!await IndexesUsersAsync())
            return;
        var manager = CreateManager(c => c.MaxSessionsPerUser = 1);
        var first = await SignInAsync("alice", manager);
        Time.Advance(TimeSpan.FromMinutes(1));

        var second = await SignInAsync("alice", manager);

        (await manager.ListUserSessionsAsync("alice")).Select(s => s.Handle).Should().Equal(SessionIds.HashText(second));
        (await Database.LoadAsync(first, CancellationToken.None)).Should().BeNull();
        (await Database.LoadAsync(second, CancellationToken.None)).Should().NotBeNull();
    }

    [Test]
    public async Task SetUser_RejectsBadNames()
    {
        if (!await IndexesUsersAsync())
            return;
        var session = await Manager.StartAsync(new TestCarrier());

        session.Invoking(s => s.SetUser("")).Should().Throw<ArgumentException>();
        session.Invoking(s => s.SetUser("a\nb")).Should().Throw<ArgumentException>().WithMessage("*control character*");
        session.Invoking(s => s.SetUser(new string('x', UserNames.MaxLength + 1))).Should().Throw<ArgumentException>().WithMessage($"*{UserNames.MaxLength + 1}*");
    }
}
