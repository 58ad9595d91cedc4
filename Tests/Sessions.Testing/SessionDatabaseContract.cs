using Microsoft.Extensions.Time.Testing;

namespace Sessions.Testing;

/// <summary>
/// The store contract every <see cref="ISessionDatabase"/> passes. A database's test fixture inherits this class and
/// implements <see cref="CreateDatabase"/>; every test then runs against it, both through the database contract itself
/// and through <see cref="SessionManager"/> and <see cref="Session"/> with <see cref="TestCarrier"/> requests, committing
/// each request as a host does, so it holds for databases that share live records and for those that store copies.
/// </summary>
/// <remarks>
/// Time is a <see cref="FakeTimeProvider"/> given to the manager (and, through <see cref="Time"/>, to any database that can
/// take one). It starts at the real current time, whole seconds, so a remote database computing TTLs from deadlines keeps
/// the keys; tests never wait for a database to expire keys by itself: the manager checks every record's deadlines.
/// </remarks>
public abstract partial class SessionDatabaseContract
{
    /// <summary>The configured absolute lifetime.</summary>
    protected static readonly TimeSpan Expires = TimeSpan.FromHours(2);

    /// <summary>The configured idle timeout.</summary>
    protected static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(30);

    private readonly List<SessionManager> _managers = [];

    /// <summary>The clock of the manager; pass it to the database when it takes one.</summary>
    protected FakeTimeProvider Time { get; private set; } = null!;

    /// <summary>The database under test, fresh for each test.</summary>
    protected ISessionDatabase Database { get; private set; } = null!;

    /// <summary>A manager on <see cref="Database"/> and <see cref="Time"/>.</summary>
    protected SessionManager Manager { get; private set; } = null!;

    /// <summary>
    /// Whether the database can destroy every session (<see cref="ISessionDatabase.DestroyAllAsync"/>). One that cannot
    /// enumerate its sessions (an <c>IDistributedCache</c>) overrides this with <see langword="false"/>; the DestroyAll test
    /// then checks that the call fails with <see cref="NotSupportedException"/> and leaves every session alone.
    /// </summary>
    protected virtual bool CanDestroyAll => true;

    /// <summary>Creates a new, empty database for one test.</summary>
    protected abstract ISessionDatabase CreateDatabase();

    /// <summary>Releases the database after a test (disposes it by default).</summary>
    protected virtual async ValueTask DisposeDatabaseAsync(ISessionDatabase database)
    {
        switch (database)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    [SetUp]
    public void SetUpContract()
    {
        var now = DateTimeOffset.UtcNow;
        Time = new FakeTimeProvider(new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero));
        Database = CreateDatabase();
        Manager = CreateManager();
    }

    [TearDown]
    public async Task TearDownContract()
    {
        Manager?.Dispose();
        foreach (var manager in _managers)
            manager.Dispose();
        _managers.Clear();
        if (Database is not null)
            await DisposeDatabaseAsync(Database);
    }

    /// <summary>A further manager on the same database and clock, e.g. another process sharing the store.</summary>
    protected SessionManager CreateManager(Action<SessionConfig>? configure = null)
    {
        var config = new SessionConfig { Database = Database, TimeProvider = Time, Expires = Expires, IdleTimeout = IdleTimeout };
        configure?.Invoke(config);
        var manager = new SessionManager(config);
        _managers.Add(manager);
        return manager;
    }

    // ----- loading and creating ---------------------------------------------------------------------------------------

    [Test]
    public async Task LoadAsync_UnknownId_ReturnsNull()
    {
        (await Database.LoadAsync(SessionIds.NewId(), CancellationToken.None)).Should().BeNull();
    }

    [Test]
    public async Task CreatedSession_LoadsWithValuesInInsertionOrder()
    {
        var id = await CreateSessionAsync(s =>
        {
            s.Set("b", "second letter");
            s.Set("a", 1);
            s.Set("c", true);
        });

        var record = await Database.LoadAsync(id, CancellationToken.None);
        record.Should().NotBeNull();
        record!.Values.ToArray().Select(v => v.Key).Should().Equal("b", "a", "c");

        var session = await LoadAsync(id);
        session.Count.Should().Be(3);
        session.GetAll().Keys.Should().Equal("b", "a", "c");
        var visited = new List<string>();
        session.VisitAll((key, _) => visited.Add(key));
        visited.Should().Equal("b", "a", "c");
        session.GetString("b").Should().Be("second letter");
        session.GetInt32("a").Should().Be(1);
        session.GetBoolean("c").Should().BeTrue();
    }

    [Test]
    public async Task ReplacedKey_KeepsItsPlace_AndNewKeyGoesLast()
    {
        var id = await CreateSessionAsync(s =>
        {
            s.Set("b", 1);
            s.Set("a", 2);
            s.Set("c", 3);
        });

        await RequestAsync(id, s =>
        {
            s.Set("a", 20);
            s.Set("d", 4);
        });

        var session = await LoadAsync(id);
        session.GetAll().Keys.Should().Equal("b", "a", "c", "d");
        session.GetInt32("a").Should().Be(20);
    }

    [Test]
    public async Task KeyDeletedAndSetAgainInOneRequest_GoesLast()
    {
        var id = await CreateSessionAsync(s =>
        {
            s.Set("a", 1);
            s.Set("b", 2);
        });

        await RequestAsync(id, s =>
        {
            s.Delete("a").Should().BeTrue();
            s.Set("a", 10);
        });

        var session = await LoadAsync(id);
        session.GetAll().Keys.Should().Equal("b", "a");
        session.GetInt32("a").Should().Be(10);
    }

    [Test]
    public async Task CreatedSession_LoadsWithFlashes()
    {
        var id = await CreateSessionAsync(s =>
        {
            s.Set("name", "iris");
            s.SetFlash("notice", "saved");
            s.SetFlash("count", 3);
        });

        var record = await Database.LoadAsync(id, CancellationToken.None);
        record.Should().NotBeNull();
        record!.Flashes.ToArray().Select(f => f.Key).Should().Equal("notice", "count");
        record.Values.ToArray().Select(v => v.Key).Should().Equal("name"); // flashes are not values

        var session = await LoadAsync(id);
        session.PeekFlash("notice").Should().Be("saved");
        session.GetAll().Should().NotContainKey("notice");
    }

    [Test]
    public async Task CreatedSession_LoadsWithDeadlines()
    {
        var created = Time.GetUtcNow();
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));

        var record = await Database.LoadAsync(id, CancellationToken.None);
        record.Should().NotBeNull();
        record!.AbsoluteDeadline.Should().Be(created + Expires);
        record.IdleDeadline.Should().Be(created + IdleTimeout);
        record.IsExpired(created).Should().BeFalse();
        (await LoadAsync(id)).ExpiresAt.Should().Be(created + Expires);
    }

    [Test]
    public async Task SessionOnlyRead_StoresNothing()
    {
        var carrier = new TestCarrier();
        var session = await Manager.StartAsync(carrier);
        session.Get("name").Should().BeNull();
        session.GetString("name", "none").Should().Be("none");
        session.HasFlash().Should().BeFalse();
        await session.CommitAsync();

        session.IsNew.Should().BeTrue();
        carrier.Written.Should().BeEmpty();
        (await Database.LoadAsync(session.Id, CancellationToken.None)).Should().BeNull();
    }

    [Test]
    public async Task UnknownWellFormedCookie_IsNotAdopted()
    {
        var presented = SessionIds.NewId();
        var carrier = new TestCarrier($"{SessionConfig.DefaultCookieName}={presented}");
        var session = await Manager.StartAsync(carrier);
        session.IsNew.Should().BeTrue();
        session.Set("name", "iris");
        await session.CommitAsync();

        session.Id.Should().NotBe(presented);
        carrier.Written.Should().ContainSingle().Which.Value.Should().Be(session.Id);
        (await Database.LoadAsync(presented, CancellationToken.None)).Should().BeNull();
        (await LoadAsync(session.Id)).GetString("name").Should().Be("iris");
    }

    [Test]
    public async Task NewSession_RaisesCreatedOnce()
    {
        var created = new List<string?>();
        Manager.Created += (_, e) => created.Add(e.SessionId);

        var id = await CreateSessionAsync(s =>
        {
            s.Set("a", 1);
            s.Set("b", 2);
        });
        await RequestAsync(id, s => s.Set("c", 3));

        created.Should().Equal(id);
    }

    [Test]
    public async Task IdAlreadyInUse_FailsLoudly_AndLeavesTheStoredSessionAlone()
    {
        var fixedId = SessionIds.NewId();
        var manager = CreateManager(c => c.SessionIdGenerator = () => fixedId);
        var first = await manager.StartAsync(new TestCarrier());
        first.Set("owner", "first");
        await first.CommitAsync();

        var act = async () =>
        {
            var second = await manager.StartAsync(new TestCarrier());
            second.Set("owner", "second");
            await second.CommitAsync();
        };

        await act.Should().ThrowAsync<InvalidOperationException>().WithMessage("*already in use*");
        (await LoadAsync(fixedId)).GetString("owner").Should().Be("first");
    }

    // ----- commits write only changes ---------------------------------------------------------------------------------

    [Test]
    public async Task TwoConcurrentRequests_ChangingDifferentKeys_BothSurvive()
    {
        var id = await CreateSessionAsync(s => s.Set("start", 0));

        var first = await LoadAsync(id);
        var second = await LoadAsync(id);
        first.Set("a", "from first");
        second.Set("b", "from second");
        await first.CommitAsync();
        await second.CommitAsync();

        var session = await LoadAsync(id);
        session.GetString("a").Should().Be("from first");
        session.GetString("b").Should().Be("from second");
        session.GetInt32("start").Should().Be(0);
    }

    [Test]
    public async Task ManyParallelRequests_WritingDistinctKeys_LoseNothing()
    {
        const int requests = 32;
        var id = await CreateSessionAsync(s => s.Set("start", 0));

        await Task.WhenAll(Enumerable.Range(0, requests).Select(i => Task.Run(async () =>
        {
            var session = await LoadAsync(id);
            session.Set($"key{i}", i);
            await session.CommitAsync();
        })));

        var all = (await LoadAsync(id)).GetAll();
        all.Should().HaveCount(requests + 1);
        for (var i = 0; i < requests; i++)
            all.Should().ContainKey($"key{i}");
    }

    [Test]
    public async Task DeletedKey_IsRemoved_AndAConcurrentWriteDoesNotBringItBack()
    {
        var id = await CreateSessionAsync(s =>
        {
            s.Set("keep", 1);
            s.Set("drop", 2);
        });

        var deleting = await LoadAsync(id);
        var writing = await LoadAsync(id);
        deleting.Delete("drop").Should().BeTrue();
        deleting.Delete("never there").Should().BeFalse();
        writing.Set("other", 3);
        await deleting.CommitAsync();
        await writing.CommitAsync();

        var session = await LoadAsync(id);
        session.GetAll().Keys.Should().Equal("keep", "other");
        session.Get("drop").Should().BeNull();
    }

    [Test]
    public async Task ClearThenSet_LeavesOnlyTheNewValues_AndKeepsFlashes()
    {
        var id = await CreateSessionAsync(s =>
        {
            s.Set("a", 1);
            s.Set("b", 2);
            s.SetFlash("notice", "kept");
        });

        await RequestAsync(id, s =>
        {
            s.Clear();
            s.Set("c", 3);
        });

        var session = await LoadAsync(id);
        session.GetAll().Keys.Should().Equal("c");
        session.GetInt32("c").Should().Be(3);
        session.PeekFlash("notice").Should().Be("kept");
    }

    [Test]
    public async Task Increment_AcrossRequests_Counts()
    {
        var id = await CreateSessionAsync(s => s.Increment("counter").Should().Be(1));

        (await RequestAsync(id, s => s.Increment("counter"))).Should().Be(2);
        (await RequestAsync(id, s => s.Increment("counter", 5))).Should().Be(7);
        (await RequestAsync(id, s => s.Decrement("counter"))).Should().Be(6);
        (await LoadAsync(id)).GetInt32("counter").Should().Be(6);
    }

    [Test]
    public async Task DeleteThenSet_UnderConcurrency_TheDeleteAndTheSetBothSurvive()
    {
        // A delete and a write of another key racing on one session must both land, however the commits interleave.
        var id = await CreateSessionAsync(s => s.Set("start", 0));

        for (var round = 0; round < 20; round++)
        {
            var value = round;
            await RequestAsync(id, s =>
            {
                s.Set("x", value);
                s.Delete("y");
            });

            await Task.WhenAll(
                Task.Run(async () =>
                {
                    var deleting = await LoadAsync(id);
                    deleting.Delete("x").Should().BeTrue();
                    await deleting.CommitAsync();
                }),
                Task.Run(async () =>
                {
                    var writing = await LoadAsync(id);
                    writing.Set("y", value);
                    await writing.CommitAsync();
                }));

            var session = await LoadAsync(id);
            session.Get("x").Should().BeNull("round {0} deleted x", value);
            session.GetInt32("y").Should().Be(value, "round {0} set y", value);
        }
    }

    // ----- flashes ----------------------------------------------------------------------------------------------------

    [Test]
    public async Task Flash_SetInOneRequest_IsReadableRepeatedlyInTheNext_AndGoneAfter()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        await RequestAsync(id, s => s.SetFlash("notice", "saved"));

        await RequestAsync(id, s =>
        {
            s.HasFlash().Should().BeTrue();
            s.GetFlash("notice").Should().Be("saved");
            s.GetFlash("notice").Should().Be("saved");
            s.GetFlashString("notice").Should().Be("saved");
        });

        await RequestAsync(id, s =>
        {
            s.GetFlash("notice").Should().BeNull();
            s.HasFlash().Should().BeFalse();
        });
        (await Database.LoadAsync(id, CancellationToken.None))!.FlashCount.Should().Be(0);
    }

    [Test]
    public async Task FlashFlood_CountsTowardMaxKeys_WithTheValues()
    {
        var manager = CreateManager(c => c.MaxKeys = 4);
        var carrier = new TestCarrier();
        var session = await manager.StartAsync(carrier);
        session.Set("a", 1);
        session.Set("b", 2);
        session.SetFlash("one", "first");
        session.SetFlash("two", "second");

        session.Invoking(s => s.SetFlash("three", "third")).Should().Throw<SessionLimitExceededException>().WithMessage("*MaxKeys*");
        session.Invoking(s => s.Set("c", 3)).Should().Throw<SessionLimitExceededException>().WithMessage("*MaxKeys*");
        session.SetFlash("one", "replaced"); // replacing a flash or a value adds no key
        session.Set("a", 10);
        await session.CommitAsync();
        var id = session.Id;

        var next = await manager.StartAsync(Request(id));
        next.GetFlash("one").Should().Be("replaced"); // consumed: its key is free again
        next.SetFlash("three", "third");
        next.Invoking(s => s.Set("c", 3)).Should().Throw<SessionLimitExceededException>();
        await next.CommitAsync();

        var record = await Database.LoadAsync(id, CancellationToken.None);
        (record!.Count + record.FlashCount).Should().Be(4);
    }

    [Test]
    public async Task PeekFlash_DoesNotConsume()
    {
        var id = await CreateSessionAsync(s => s.SetFlash("notice", "saved"));

        await RequestAsync(id, s => s.PeekFlash("notice").Should().Be("saved"));
        await RequestAsync(id, s => s.PeekFlash("notice").Should().Be("saved"));
        await RequestAsync(id, s => s.GetFlash("notice").Should().Be("saved"));

        (await LoadAsync(id)).PeekFlash("notice").Should().BeNull();
    }

    [Test]
    public async Task Flashes_DeletedAndClearedInOneRequest_StayGone()
    {
        var id = await CreateSessionAsync(s =>
        {
            s.SetFlash("one", "1");
            s.SetFlash("two", "2");
        });

        await RequestAsync(id, s => s.DeleteFlash("one").Should().BeTrue());
        (await LoadAsync(id)).GetFlashes().Keys.Should().Equal("two");

        await RequestAsync(id, s =>
        {
            s.ClearFlashes();
            s.SetFlash("three", "3");
        });
        var session = await LoadAsync(id);
        session.PeekFlash("two").Should().BeNull();
        session.PeekFlash("three").Should().Be("3");
    }

    [Test]
    public async Task TwoRequestsConsumingTheSameFlash_AtOnce_ShowItAtLeastOnce_AndItIsGoneAfter()
    {
        // Two tabs loading the page that shows a notice: the notice is shown (by the first reader on live records, by
        // every request that loaded it on copies) and neither request brings it back for the request after.
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        await RequestAsync(id, s => s.SetFlash("notice", "saved"));

        var both = await Task.WhenAll(LoadAsync(id), LoadAsync(id));
        var (first, second) = (both[0], both[1]);
        var seen = new[] { first.GetFlash("notice"), second.GetFlash("notice") };
        seen.Should().Contain("saved").And.OnlyContain(value => value == null || (string)value == "saved");
        if (!Database.SharesRecords)
            seen.Should().OnlyContain(value => (string?)value == "saved", "each request read its own copy, loaded while the flash was set");
        await Task.WhenAll(first.CommitAsync().AsTask(), second.CommitAsync().AsTask());

        await RequestAsync(id, s =>
        {
            s.GetFlash("notice").Should().BeNull();
            s.HasFlash().Should().BeFalse();
        });
        (await Database.LoadAsync(id, CancellationToken.None))!.FlashCount.Should().Be(0);
    }

    /// <summary>
    /// A request that writes to a session another request ended is told so, never silently dropped: on live records the
    /// write itself throws, on copies its commit does; either way nothing is stored.
    /// </summary>
    private static async Task WritingLate_IsReported(Session late, Action<Session> write)
    {
        var writeAndCommit = async () =>
        {
            write(late);
            await late.CommitAsync();
        };
        await writeAndCommit.Should().ThrowAsync<SessionEndedException>();
    }

    // ----- immutable values and typed getters -------------------------------------------------------------------------

    [Test]
    public async Task ImmutableValue_SurvivesReload()
    {
        var id = await CreateSessionAsync(s =>
        {
            s.SetImmutable("models", ContractModel.Defaults());
            s.SetImmutable("motto", "fixed");
        });

        var session = await LoadAsync(id);
        session.Invoking(s => s.Set("models", "changed")).Should().Throw<InvalidOperationException>().WithMessage("*'models'*");
        session.Invoking(s => s.Set("motto", "changed")).Should().Throw<InvalidOperationException>().WithMessage("*'motto'*");
        session.Get<List<ContractModel>>("models")[0].Name = "Kataras";
        session.Get<List<ContractModel>>("models")[0].Name.Should().Be("Edward");
        session.GetString("motto").Should().Be("fixed");
        await session.CommitAsync();

        var reloaded = await LoadAsync(id);
        reloaded.Get<List<ContractModel>>("models").Select(m => m.Name).Should().Equal("Edward", "value 2");
        reloaded.Invoking(s => s.Set("models", "changed")).Should().Throw<InvalidOperationException>();
    }

    [Test]
    public async Task ImmutableValue_CanBeReplacedWithSetImmutable_AndDeleted()
    {
        var id = await CreateSessionAsync(s => s.SetImmutable("models", ContractModel.Defaults()));

        await RequestAsync(id, s => s.SetImmutable("models", new List<ContractModel> { new() { Name = "Gabriel" } }));
        var replaced = await LoadAsync(id);
        replaced.Get<List<ContractModel>>("models").Should().ContainSingle().Which.Name.Should().Be("Gabriel");
        replaced.Invoking(s => s.Set("models", "changed")).Should().Throw<InvalidOperationException>();

        await RequestAsync(id, s => s.Delete("models").Should().BeTrue());
        await RequestAsync(id, s => s.Set("models", "plain now"));
        (await LoadAsync(id)).GetString("models").Should().Be("plain now");
    }

    [Test]
    public async Task TypedGetters_GiveTheSameAnswersAfterAReload()
    {
        var when = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);
        var guid = Guid.Parse("6f9619ff-8b86-d011-b42d-00cf4fc964ff");
        var id = await CreateSessionAsync(s =>
        {
            s.Set("int", 42);
            s.Set("negative", -7);
            s.Set("long", 1L << 40);
            s.Set("text42", "42");
            s.Set("double", 0.1);
            s.Set("text0.1", "0.1");
            s.Set("float", 0.5f);
            s.Set("bool", true);
            s.Set("textTrue", "true");
            s.Set("string", "iris");
            s.Set("when", when);
            s.Set("guid", guid);
            s.Set("model", new ContractModel { Name = "Edward" });
        });

        var session = await LoadAsync(id);
        session.GetInt32("int").Should().Be(42);
        session.Get<int>("int").Should().Be(42);
        session.GetInt64("int").Should().Be(42);
        session.GetString("int").Should().Be("42");
        session.GetDouble("int").Should().Be(42.0);
        session.GetInt32("negative").Should().Be(-7);
        session.GetInt64("long").Should().Be(1L << 40);
        session.Invoking(s => s.GetInt32("long")).Should().Throw<SessionValueConversionException>().WithMessage("*'long'*");
        session.GetInt32("text42").Should().Be(42);
        session.GetDouble("double").Should().Be(0.1);
        session.GetString("double").Should().Be("0.1");
        session.GetDouble("text0.1").Should().Be(0.1);
        session.GetSingle("float").Should().Be(0.5f);
        session.GetDouble("float").Should().Be(0.5);
        session.GetBoolean("bool").Should().BeTrue();
        session.GetString("bool").Should().Be("true");
        session.GetBoolean("textTrue").Should().BeTrue();
        session.GetString("string").Should().Be("iris");
        session.Invoking(s => s.GetInt32("string")).Should().Throw<SessionValueConversionException>().WithMessage("*'string'*");
        session.GetInt32("string", -1).Should().Be(-1);
        session.Get<DateTimeOffset>("when").Should().Be(when);
        session.Get<Guid>("guid").Should().Be(guid);
        session.Get<ContractModel>("model").Name.Should().Be("Edward");
        session.Invoking(s => s.GetInt32("missing")).Should().Throw<SessionKeyNotFoundException>().WithMessage("*'missing'*");
        session.GetInt32("missing", 5).Should().Be(5);
    }

    // ----- destroy ----------------------------------------------------------------------------------------------------

    [Test]
    public async Task DestroyAsync_DeletesTheSession_AndIsFinal()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));

        (await Database.DestroyAsync(id, CancellationToken.None)).Should().BeTrue();
        (await Database.DestroyAsync(id, CancellationToken.None)).Should().BeFalse();
        (await Database.LoadAsync(id, CancellationToken.None)).Should().BeNull();
        (await Database.UpdateExpirationAsync(id, null, Time.GetUtcNow() + IdleTimeout, CancellationToken.None)).Should().BeFalse();
        (await Database.LoadAsync(id, CancellationToken.None)).Should().BeNull();
    }

    [Test]
    public async Task CommitAfterDestroyAsync_ReturnsFalse_AndDoesNotRecreate()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        var record = await Database.LoadAsync(id, CancellationToken.None);
        record.Should().NotBeNull();

        (await Database.DestroyAsync(id, CancellationToken.None)).Should().BeTrue();
        var changes = new SessionChanges();
        (await Database.CommitAsync(id, record, changes, CancellationToken.None)).Should().BeFalse();

        (await Database.LoadAsync(id, CancellationToken.None)).Should().BeNull();
    }

    [Test]
    public async Task RequestWritingAfterAnotherRequestDestroyed_IsReported_AndDoesNotResurrectTheSession()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        var late = await LoadAsync(id);

        var destroying = Request(id);
        (await Manager.DestroyAsync(destroying)).Should().BeTrue();
        await WritingLate_IsReported(late, s =>
        {
            s.Set("late", "write");
            s.SetFlash("late", "flash");
        });

        (await Database.LoadAsync(id, CancellationToken.None)).Should().BeNull();
        var next = await Manager.StartAsync(Request(id));
        next.IsNew.Should().BeTrue();
        next.Get("name").Should().BeNull();
    }

    [Test]
    public async Task Destroy_ExpiresTheCookie_RaisesDestroyed_AndTheNextRequestIsFresh()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        var destroyed = new List<SessionEventArgs>();
        Manager.Destroyed += (_, e) => destroyed.Add(e);

        var carrier = Request(id);
        (await Manager.DestroyAsync(carrier)).Should().BeTrue();
        var session = await Manager.StartAsync(carrier);
        session.IsDestroyed.Should().BeTrue();
        session.Get("name").Should().BeNull();
        session.Invoking(s => s.Set("name", "again")).Should().Throw<InvalidOperationException>();
        await session.CommitAsync();

        carrier.Written.Should().ContainSingle().Which.IsDeletion.Should().BeTrue();
        destroyed.Should().ContainSingle().Which.Reason.Should().Be(SessionEventReason.Destroyed);
        destroyed[0].SessionId.Should().Be(id);
        var next = await Manager.StartAsync(carrier.NextRequest());
        next.IsNew.Should().BeTrue();
        (await Manager.StartAsync(Request(id))).IsNew.Should().BeTrue();
    }

    [Test]
    public async Task DestroyById_ActsOnTheDatabase()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        var otherProcess = CreateManager();

        (await otherProcess.DestroyByIdAsync(id)).Should().BeTrue();
        (await otherProcess.DestroyByIdAsync(id)).Should().BeFalse();
        (await Manager.StartAsync(Request(id))).IsNew.Should().BeTrue();
    }

    [Test]
    public async Task DestroyAll_RemovesEverySession()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
            ids.Add(await CreateSessionAsync(s => s.Set("n", i)));

        if (!CanDestroyAll)
        {
            var destroyAll = async () => await CreateManager().DestroyAllAsync();
            await destroyAll.Should().ThrowAsync<NotSupportedException>().WithMessage($"*{Database.GetType().Name}*");
            foreach (var id in ids)
                (await LoadAsync(id)).GetInt32("n").Should().BeInRange(0, 2);
            return;
        }
        await CreateManager().DestroyAllAsync();

        foreach (var id in ids)
        {
            (await Database.LoadAsync(id, CancellationToken.None)).Should().BeNull();
            (await Manager.StartAsync(Request(id))).IsNew.Should().BeTrue();
        }
        var fresh = await CreateSessionAsync(s => s.Set("n", 9));
        (await LoadAsync(fresh)).GetInt32("n").Should().Be(9);
    }

    [Test]
    public async Task CreateRetriedAfterDestroy_DoesNotResurrect()
    {
        // A create retried after a time-out (its token may say "mine") must not bring back a session destroyed in between.
        var id = SessionIds.NewId();
        var now = Time.GetUtcNow();
        var record = new SessionRecord(now + Expires, now + IdleTimeout);
        record.SetValue("name", new SessionValue("iris", false));
        var create = SessionChanges.CreateFrom(record);

        (await Database.CommitAsync(id, record, create, CancellationToken.None)).Should().BeTrue();
        (await Database.LoadAsync(id, CancellationToken.None)).Should().NotBeNull();
        (await Database.DestroyAsync(id, CancellationToken.None)).Should().BeTrue();

        (await Database.CommitAsync(id, record, create, CancellationToken.None)).Should().BeFalse("the session was destroyed after the first attempt");
        (await Database.LoadAsync(id, CancellationToken.None)).Should().BeNull();
        (await Manager.StartAsync(Request(id))).IsNew.Should().BeTrue();
    }

    // ----- renew ------------------------------------------------------------------------------------------------------

    [Test]
    public async Task RenewId_MovesTheData_AndTheOldIdNoLongerWorks()
    {
        var oldId = await CreateSessionAsync(s =>
        {
            s.Set("name", "iris");
            s.SetImmutable("models", ContractModel.Defaults());
            s.SetFlash("notice", "renewed");
        });

        var carrier = Request(oldId);
        (await Manager.RenewIdAsync(carrier)).Should().BeTrue();
        var session = await Manager.StartAsync(carrier);
        session.Set("after", "renew");
        await session.CommitAsync();
        var newId = carrier.Written.Should().ContainSingle().Subject.Value;

        newId.Should().NotBe(oldId);
        session.Id.Should().Be(newId);
        (await Database.LoadAsync(oldId, CancellationToken.None)).Should().BeNull();
        (await Manager.StartAsync(Request(oldId))).IsNew.Should().BeTrue();
        var renewed = await LoadAsync(newId);
        renewed.GetAll().Keys.Should().Equal("name", "models", "after");
        renewed.Invoking(s => s.Set("models", "x")).Should().Throw<InvalidOperationException>();
        renewed.PeekFlash("notice").Should().Be("renewed");
    }

    [Test]
    public async Task LateCommitAfterRenewId_IsReported_AndWritesNeitherTheOldIdNorTheNewOne()
    {
        var oldId = await CreateSessionAsync(s => s.Set("name", "iris"));
        var late = await LoadAsync(oldId);

        var renewing = Request(oldId);
        (await Manager.RenewIdAsync(renewing)).Should().BeTrue();
        var newId = renewing.Written.Should().ContainSingle().Subject.Value;
        await WritingLate_IsReported(late, s => s.Set("late", "write"));

        (await Database.LoadAsync(oldId, CancellationToken.None)).Should().BeNull();
        var renewed = await LoadAsync(newId);
        renewed.GetString("name").Should().Be("iris");
        renewed.Get("late").Should().BeNull();
    }

    [Test]
    public async Task RenewId_DoesNotBringBackAKeyAnotherRequestDeleted()
    {
        // Renewing at login must move the session as it is now, not as the renewing request loaded it (a removed cart stays removed).
        var oldId = await CreateSessionAsync(s =>
        {
            s.Set("cart", "3 items");
            s.Set("user", "iris");
        });
        var (renewingCarrier, renewing) = await StartRequestAsync(oldId);
        renewing.GetString("cart").Should().Be("3 items");

        await RequestAsync(oldId, s => s.Delete("cart").Should().BeTrue());
        (await Manager.RenewIdAsync(renewingCarrier)).Should().BeTrue();
        await renewing.CommitAsync();

        var next = await Manager.StartAsync(renewingCarrier.NextRequest());
        next.IsNew.Should().BeFalse("the renewed cookie names the session");
        next.Id.Should().NotBe(oldId);
        next.GetString("user").Should().Be("iris");
        next.Get("cart").Should().BeNull("another request deleted it before the renew");
        (await Database.LoadAsync(next.Id, CancellationToken.None))!.Values.ToArray().Select(v => v.Key).Should().Equal("user");
        (await Database.LoadAsync(oldId, CancellationToken.None)).Should().BeNull();
    }

    [Test]
    public async Task CommitAfterRenewId_IsReportedNotSwallowed()
    {
        // A request that loaded the session before another renewed it must learn its commit went nowhere (false), not lose it silently.
        var oldId = await CreateSessionAsync(s => s.Set("name", "iris"));
        var record = await Database.LoadAsync(oldId, CancellationToken.None);
        record.Should().NotBeNull();

        var newId = SessionIds.NewId();
        (await Database.RenewAsync(oldId, newId, CancellationToken.None)).Should().Be(SessionRenewResult.Renewed);
        record!.SetValue("late", new SessionValue("write", false)); // the late request's own copy, changed after the renew
        (await Database.CommitAsync(oldId, record, new SessionChanges(), CancellationToken.None)).Should().BeFalse("the old ID names no session any more");

        (await Database.LoadAsync(oldId, CancellationToken.None)).Should().BeNull();
        var renewed = await Database.LoadAsync(newId, CancellationToken.None);
        renewed.Should().NotBeNull();
        renewed!.Values.ToArray().Select(v => v.Key).Should().Equal("name");
        (await LoadAsync(newId)).GetString("name").Should().Be("iris");
    }

    [Test]
    public async Task RenewAsync_MovesValuesFlashesAndDeadlines_AndTheOldIdLoadsNothing()
    {
        // RenewAsync is the whole of RenewId on a database: everything must arrive under the new ID, nothing stay under the old.
        var oldId = await CreateSessionAsync(s =>
        {
            s.Set("b", "second");
            s.Set("a", "first");
            s.SetFlash("notice", "welcome");
        });
        var absolute = Time.GetUtcNow() + TimeSpan.FromHours(1);
        var idle = Time.GetUtcNow() + TimeSpan.FromMinutes(10);
        (await Database.UpdateExpirationAsync(oldId, absolute, idle, CancellationToken.None)).Should().BeTrue();

        var newId = SessionIds.NewId();
        (await Database.RenewAsync(oldId, newId, CancellationToken.None)).Should().Be(SessionRenewResult.Renewed);

        (await Database.LoadAsync(oldId, CancellationToken.None)).Should().BeNull();
        var record = await Database.LoadAsync(newId, CancellationToken.None);
        record.Should().NotBeNull();
        record!.AbsoluteDeadline.Should().Be(absolute);
        record.IdleDeadline.Should().Be(idle);
        record.Values.ToArray().Select(v => v.Key).Should().Equal("b", "a");
        record.Flashes.ToArray().Select(f => f.Key).Should().Equal("notice");

        var session = await LoadAsync(newId);
        session.GetString("b").Should().Be("second");
        session.GetString("a").Should().Be("first");
        session.PeekFlash("notice").Should().Be("welcome");
        (await Manager.StartAsync(Request(oldId))).IsNew.Should().BeTrue();
    }

    [Test]
    public async Task RenewAsync_UnknownDestroyedOrRenewedId_IsNotFound_AndCreatesNothing()
    {
        // A renew racing a logout or another renew must not create a session under the new ID.
        var unknownTarget = SessionIds.NewId();
        (await Database.RenewAsync(SessionIds.NewId(), unknownTarget, CancellationToken.None)).Should().Be(SessionRenewResult.NotFound);
        (await Database.LoadAsync(unknownTarget, CancellationToken.None)).Should().BeNull();

        var destroyed = await CreateSessionAsync(s => s.Set("name", "iris"));
        (await Database.DestroyAsync(destroyed, CancellationToken.None)).Should().BeTrue();
        var destroyedTarget = SessionIds.NewId();
        (await Database.RenewAsync(destroyed, destroyedTarget, CancellationToken.None)).Should().Be(SessionRenewResult.NotFound);
        (await Database.LoadAsync(destroyedTarget, CancellationToken.None)).Should().BeNull();
        (await Database.LoadAsync(destroyed, CancellationToken.None)).Should().BeNull();

        var renewed = await CreateSessionAsync(s => s.Set("name", "edward"));
        var firstTarget = SessionIds.NewId();
        (await Database.RenewAsync(renewed, firstTarget, CancellationToken.None)).Should().Be(SessionRenewResult.Renewed);
        var secondTarget = SessionIds.NewId();
        (await Database.RenewAsync(renewed, secondTarget, CancellationToken.None)).Should().Be(SessionRenewResult.NotFound);
        (await Database.LoadAsync(secondTarget, CancellationToken.None)).Should().BeNull();
        (await LoadAsync(firstTarget)).GetString("name").Should().Be("edward");
    }

    [Test]
    public async Task RenewAsync_ToAnIdInUse_ChangesNothing()
    {
        // An ID collision must never merge or overwrite two users' sessions.
        var first = await CreateSessionAsync(s =>
        {
            s.Set("owner", "first");
            s.SetFlash("notice", "first's");
        });
        var second = await CreateSessionAsync(s => s.Set("owner", "second"));

        (await Database.RenewAsync(first, second, CancellationToken.None)).Should().Be(SessionRenewResult.IdInUse);

        var firstSession = await LoadAsync(first);
        firstSession.GetAll().Keys.Should().Equal("owner");
        firstSession.GetString("owner").Should().Be("first");
        firstSession.PeekFlash("notice").Should().Be("first's");
        var secondSession = await LoadAsync(second);
        secondSession.GetAll().Keys.Should().Equal("owner");
        secondSession.GetString("owner").Should().Be("second");
        secondSession.HasFlash().Should().BeFalse();
    }

    // ----- expiration -------------------------------------------------------------------------------------------------

    [Test]
    public async Task UpdateExpirationAsync_UnknownSession_ReturnsFalse_AndWritesNoCookie()
    {
        (await Database.UpdateExpirationAsync(SessionIds.NewId(), null, Time.GetUtcNow() + IdleTimeout, CancellationToken.None)).Should().BeFalse();

        var cookieless = new TestCarrier();
        (await Manager.UpdateExpirationAsync(cookieless, TimeSpan.FromHours(1))).Should().BeFalse();
        cookieless.Written.Should().BeEmpty();

        var unknown = Request(SessionIds.NewId());
        (await Manager.ShiftExpirationAsync(unknown)).Should().BeFalse();
        unknown.Written.Should().BeEmpty();
    }

    [Test]
    public async Task UpdateExpirationAsync_MovesTheStoredDeadlines()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        var at = Time.GetUtcNow() + TimeSpan.FromMinutes(5);

        (await Database.UpdateExpirationAsync(id, at + Expires, at + IdleTimeout, CancellationToken.None)).Should().BeTrue();

        var record = await Database.LoadAsync(id, CancellationToken.None);
        record!.AbsoluteDeadline.Should().Be(at + Expires);
        record.IdleDeadline.Should().Be(at + IdleTimeout);
    }

    [Test]
    public async Task ShiftExpiration_MovesTheDeadlineInTheStoreAndTheCookie()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        Time.Advance(TimeSpan.FromMinutes(20));
        var shiftedAt = Time.GetUtcNow();

        var carrier = Request(id);
        (await Manager.ShiftExpirationAsync(carrier)).Should().BeTrue();
        await (await Manager.StartAsync(carrier)).CommitAsync();

        var cookie = carrier.Written.Should().ContainSingle().Subject;
        cookie.Value.Should().Be(id);
        cookie.MaxAgeSeconds.Should().Be((long)Expires.TotalSeconds);
        var record = await Database.LoadAsync(id, CancellationToken.None);
        record!.AbsoluteDeadline.Should().Be(shiftedAt + Expires);
        record.IdleDeadline.Should().Be(shiftedAt + IdleTimeout);
    }

    [Test]
    public async Task SessionUsedWithinTheIdleTimeout_IsAdopted()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));

        for (var i = 0; i < 3; i++)
        {
            Time.Advance(IdleTimeout - TimeSpan.FromMinutes(1));
            (await RequestAsync(id, s => s.GetString("name"))).Should().Be("iris");
        }
    }

    [Test]
    public async Task SessionIdlePastItsIdleDeadline_IsNeverAdopted()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));

        Time.Advance(IdleTimeout);

        var carrier = Request(id);
        var session = await Manager.StartAsync(carrier);
        session.IsNew.Should().BeTrue();
        session.Get("name").Should().BeNull();
        session.Set("name", "new");
        await session.CommitAsync();
        session.Id.Should().NotBe(id);
        carrier.Written.Should().ContainSingle().Which.Value.Should().Be(session.Id);
        (await Manager.StartAsync(Request(id))).IsNew.Should().BeTrue();
    }

    [Test]
    public async Task SessionPastItsAbsoluteDeadline_IsNeverAdopted_EvenWhenActive()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));

        for (var elapsed = TimeSpan.Zero; elapsed + TimeSpan.FromMinutes(20) < Expires; elapsed += TimeSpan.FromMinutes(20))
        {
            Time.Advance(TimeSpan.FromMinutes(20));
            (await RequestAsync(id, s => s.GetString("name"))).Should().Be("iris");
        }
        Time.Advance(TimeSpan.FromMinutes(25)); // past the absolute deadline, within the idle window of the last request

        var session = await Manager.StartAsync(Request(id));
        session.IsNew.Should().BeTrue();
        session.Get("name").Should().BeNull();
    }

    [Test]
    public async Task ExpiredSession_RaisesExpired_AndIsNotAdoptedByAnotherManager()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        var other = CreateManager();
        var events = new List<SessionEventArgs>();
        other.Destroyed += (_, e) => events.Add(e);
        Manager.Destroyed += (_, e) => events.Add(e);

        Time.Advance(IdleTimeout + TimeSpan.FromSeconds(1));

        (await other.StartAsync(Request(id))).IsNew.Should().BeTrue();
        events.Should().NotBeEmpty().And.OnlyContain(e => e.Reason == SessionEventReason.Expired && e.SessionId == id);
    }

    [Test]
    public async Task StaleCommit_DoesNotUndoAnotherRequestsDeadlineChange()
    {
        // A request that only set a value must not write back the deadline it loaded over one another request shortened.
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        var writing = await LoadAsync(id);

        var shortening = Request(id);
        (await Manager.UpdateExpirationAsync(shortening, TimeSpan.FromMinutes(5))).Should().BeTrue();
        await (await Manager.StartAsync(shortening)).CommitAsync();
        var shortened = Time.GetUtcNow() + TimeSpan.FromMinutes(5);

        writing.Set("cart", "1 item");
        await writing.CommitAsync();

        (await Database.LoadAsync(id, CancellationToken.None))!.AbsoluteDeadline.Should().Be(shortened);
        var session = await LoadAsync(id);
        session.GetString("cart").Should().Be("1 item");
        session.ExpiresAt.Should().Be(shortened);
    }

    [Test]
    public async Task IdleRefresh_WritesOnlyTheIdleDeadline()
    {
        // A read-only request that refreshes the idle window must not restore the absolute deadline another request shortened.
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        Time.Advance(IdleTimeout / 5); // more than a tenth of the idle window: the request writes the idle deadline
        var refreshing = await LoadAsync(id);
        refreshing.GetString("name").Should().Be("iris");

        var shortening = Request(id);
        (await Manager.UpdateExpirationAsync(shortening, TimeSpan.FromMinutes(5))).Should().BeTrue();
        await (await Manager.StartAsync(shortening)).CommitAsync();
        var now = Time.GetUtcNow();

        await refreshing.CommitAsync();

        var record = await Database.LoadAsync(id, CancellationToken.None);
        record!.AbsoluteDeadline.Should().Be(now + TimeSpan.FromMinutes(5));
        record.IdleDeadline.Should().Be(now + IdleTimeout);
        (await LoadAsync(id)).ExpiresAt.Should().Be(now + TimeSpan.FromMinutes(5));
    }

    // ----- helpers ----------------------------------------------------------------------------------------------------

    /// <summary>A request carrying the session cookie for <paramref name="id"/>.</summary>
    protected static TestCarrier Request(string id) => new($"{SessionConfig.DefaultCookieName}={id}");

    /// <summary>Runs one cookieless request that writes a new session, commits it and returns its ID (the cookie's value).</summary>
    protected async Task<string> CreateSessionAsync(Action<Session> write)
    {
        var carrier = new TestCarrier();
        var session = await Manager.StartAsync(carrier);
        write(session);
        await session.CommitAsync();
        var cookie = carrier.Written.Should().ContainSingle("a new session writes its cookie once").Subject;
        cookie.Value.Should().Be(session.Id);
        return session.Id;
    }

    /// <summary>Starts a request on session <paramref name="id"/> and checks it was adopted; the caller commits.</summary>
    protected async Task<Session> LoadAsync(string id) => (await StartRequestAsync(id)).Session;

    /// <summary>Starts a request on session <paramref name="id"/>, checks it was adopted and returns its carrier too (for the cookies it writes); the caller commits.</summary>
    protected async Task<(TestCarrier Carrier, Session Session)> StartRequestAsync(string id)
    {
        var carrier = Request(id);
        var session = await Manager.StartAsync(carrier);
        session.IsNew.Should().BeFalse("session {0} should be adopted", id);
        session.Id.Should().Be(id);
        return (carrier, session);
    }

    /// <summary>One whole request on session <paramref name="id"/>: start, run <paramref name="body"/>, commit.</summary>
    protected async Task RequestAsync(string id, Action<Session> body)
    {
        var session = await LoadAsync(id);
        body(session);
        await session.CommitAsync();
    }

    /// <summary>One whole request on session <paramref name="id"/> returning what <paramref name="body"/> returns.</summary>
    protected async Task<T> RequestAsync<T>(string id, Func<Session, T> body)
    {
        var session = await LoadAsync(id);
        var result = body(session);
        await session.CommitAsync();
        return result;
    }
}

/// <summary>The go-sessions example's business model, for immutable values.</summary>
public sealed class ContractModel
{
    /// <summary>A name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Two models, as in the go-sessions example.</summary>
    public static List<ContractModel> Defaults() => [new() { Name = "Edward" }, new() { Name = "value 2" }];
}
