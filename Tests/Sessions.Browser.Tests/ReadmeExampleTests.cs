using System.Net;
using Sessions.Hosts.Tests;

namespace Sessions.Browser.Tests;

/// <summary>
/// go-sessions' README examples as runnable samples (samples/Overview, samples/SecureCookie), each run as its own
/// process (<c>dotnet Sessions.Samples.NAME.dll --urls http://127.0.0.1:PORT</c>) and used over real HTTP with a
/// cookie jar, as a user following the README would.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class OverviewExampleTests
{
    private const string CookieName = "mycookiesessionnameid";

    private SampleProcess _sample = null!;

    [OneTimeSetUp]
    public async Task StartSample() => _sample = await SampleProcess.StartAsync("Overview", "/secret", HttpStatusCode.Forbidden);

    [OneTimeTearDown]
    public void StopSample() => _sample?.Dispose();

    [Test]
    public async Task The_secret_is_403_until_login_then_the_cake_is_a_lie_until_logout()
    {
        using var user = new JarClient(_sample.BaseAddress);

        var denied = await user.GetAsync("/secret");
        denied.Status.Should().Be(HttpStatusCode.Forbidden);
        denied.Body.Should().BeEmpty();
        user.Cookie(CookieName).Should().BeNull("reading an empty session stores nothing");

        (await user.GetAsync("/login")).Status.Should().Be(HttpStatusCode.OK);
        var id = user.Cookie(CookieName);
        id.Should().NotBeNull();

        var secret = await user.GetAsync("/secret");
        secret.Status.Should().Be(HttpStatusCode.OK);
        secret.Body.Should().Be("The cake is a lie!");

        (await user.GetAsync("/logout")).Status.Should().Be(HttpStatusCode.OK);
        user.Cookie(CookieName).Should().BeNull("logout expires the cookie");
        (await user.GetAsync("/secret")).Status.Should().Be(HttpStatusCode.Forbidden);

        using var replay = new JarClient(_sample.BaseAddress);
        replay.SetCookie(CookieName, id!);
        (await replay.GetAsync("/secret")).Status.Should().Be(HttpStatusCode.Forbidden, "logout destroyed the session, not only the cookie");
    }

    [Test]
    public async Task Login_renews_the_session_id_so_an_id_known_before_login_is_never_authenticated()
    {
        using var victim = new JarClient(_sample.BaseAddress);
        (await victim.GetAsync("/login")).Status.Should().Be(HttpStatusCode.OK);
        var first = victim.Cookie(CookieName)!;

        (await victim.GetAsync("/login")).Status.Should().Be(HttpStatusCode.OK, "logging in again, on an existing session");
        var second = victim.Cookie(CookieName)!;

        second.Should().NotBe(first);
        (await victim.GetAsync("/secret")).Body.Should().Be("The cake is a lie!");
        using var attacker = new JarClient(_sample.BaseAddress);
        attacker.SetCookie(CookieName, first);
        (await attacker.GetAsync("/secret")).Status.Should().Be(HttpStatusCode.Forbidden, "the ID from before the login is dead");
    }
}

/// <summary>go-sessions' securecookie example: the cookie carries the session ID protected by ASP.NET Core Data Protection.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class SecureCookieExampleTests
{
    private const string CookieName = "mycustomsessionid";

    private SampleProcess _sample = null!;

    [OneTimeSetUp]
    public async Task StartSample() => _sample = await SampleProcess.StartAsync("SecureCookie");

    [OneTimeTearDown]
    public void StopSample() => _sample?.Dispose();

    [Test]
    public async Task The_routes_work_through_an_encrypted_cookie()
    {
        using var user = new JarClient(_sample.BaseAddress);

        (await user.GetAsync("/")).Body.Should().Be("You should navigate to the /set, /get, /delete, /clear,/destroy instead");
        (await user.GetAsync("/set")).Body.Should().Be("All ok session setted to: iris");
        var value = user.Cookie(CookieName)!;
        TestContext.Out.WriteLine($"Cookie value: {value.Length} base64url characters (a session ID is 43)");
        value.Should().MatchRegex("^[A-Za-z0-9_-]{100,}$", "a Data Protection payload, base64url, far longer than the 43-character ID");
        (await user.GetAsync("/get")).Body.Should().Be("The name on the /set was: iris");
        (await user.GetAsync("/update")).Status.Should().Be(HttpStatusCode.OK);
        user.Cookie(CookieName).Should().NotBeNull();
        (await user.GetAsync("/delete")).Status.Should().Be(HttpStatusCode.OK);
        (await user.GetAsync("/get")).Body.Should().Be("The name on the /set was: ");
        (await user.GetAsync("/set")).Status.Should().Be(HttpStatusCode.OK);
        (await user.GetAsync("/clear")).Status.Should().Be(HttpStatusCode.OK);
        (await user.GetAsync("/get")).Body.Should().Be("The name on the /set was: ");

        (await user.GetAsync("/destroy")).Status.Should().Be(HttpStatusCode.OK);
        user.Cookie(CookieName).Should().BeNull("destroy expires the cookie");
    }

    [Test]
    public async Task A_changed_cookie_value_does_not_decode_and_reads_as_no_session()
    {
        using var user = new JarClient(_sample.BaseAddress);
        (await user.GetAsync("/set")).Body.Should().Be("All ok session setted to: iris");
        var value = user.Cookie(CookieName)!;

        var middle = value.Length / 2;
        var tampered = value[..middle] + (value[middle] == 'A' ? 'B' : 'A') + value[(middle + 1)..];
        using var attacker = new JarClient(_sample.BaseAddress);
        attacker.SetCookie(CookieName, tampered);
        (await attacker.GetAsync("/get")).Body.Should().Be("The name on the /set was: ", "a tampered value fails authentication");

        using var replay = new JarClient(_sample.BaseAddress);
        replay.SetCookie(CookieName, value);
        (await replay.GetAsync("/get")).Body.Should().Be("The name on the /set was: iris", "the untouched value still decodes");
    }
}
