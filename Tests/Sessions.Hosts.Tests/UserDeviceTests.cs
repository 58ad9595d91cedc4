using System.Text.Json;

namespace Sessions.Hosts.Tests;

/// <summary>
/// Users and devices over real HTTP, on every host and store: sign in and out, a protected page, the devices list, revoking
/// a device, signing out everywhere or everywhere else, and the per-user session limit (the host runs with
/// <c>--max-sessions-per-user 2</c>). Every test signs in as its own user, so tests sharing a store never meet.
/// </summary>
[TestFixtureSource(typeof(SampleHost), nameof(SampleHost.HostsAndStores))]
[Parallelizable(ParallelScope.Self)]
public sealed class UserDeviceTests(string hostName, string store)
{
    private SampleHost _host = null!;

    [OneTimeSetUp]
    public async Task StartHost() => _host = await SampleHost.StartAsync(hostName, store, "--max-sessions-per-user", "2");

    [OneTimeTearDown]
    public async Task StopHost() => await _host.DisposeAsync();

    private SampleClient NewClient() => new(_host.BaseAddress);

    private static string NewUser() => "user-" + Guid.NewGuid().ToString("N");

    [Test]
    public async Task Login_opens_the_secret_with_a_new_id_and_logout_closes_it()
    {
        using var client = NewClient();
        await client.GetAsync("/set");
        var before = client.Cookie;
        (await client.GetAsync("/secret")).Status.Should().Be(403);
        var user = NewUser();

        var login = await client.GetAsync("/login?user=" + user);

        login.Status.Should().Be(200);
        login.Body.Should().Be("welcome " + user);
        client.Cookie.Should().NotBeNull().And.NotBe(before, "signing in renews the session ID");
        (await client.GetAsync("/get")).Body.Should().Be("The name on the /set was: iris", "the renewed session keeps its data");
        var secret = await client.GetAsync("/secret");
        secret.Status.Should().Be(200);
        secret.Body.Should().Be("The cake is a lie!");

        (await client.GetAsync("/logout")).Status.Should().Be(200);
        client.Cookie.Should().BeNull("logout expires the cookie");
        (await client.GetAsync("/secret")).Status.Should().Be(403);
    }

    [Test]
    public async Task Two_clients_of_one_user_see_each_other_in_devices_newest_first()
    {
        var user = NewUser();
        using var first = NewClient();
        using var second = NewClient();
        using var stranger = NewClient();
        await first.GetAsync("/login?user=" + user);
        await second.GetAsync("/login?user=" + user);
        await stranger.GetAsync("/login?user=" + NewUser());

        var seenByFirst = await DevicesAsync(first);
        var seenBySecond = await DevicesAsync(second);

        seenByFirst.Should().HaveCount(2);
        seenByFirst.Select(d => d.Handle).Should().Equal(seenBySecond.Select(d => d.Handle), "both list the same sessions, newest first");
        seenByFirst.Select(d => d.Current).Should().Equal(false, true);
        seenBySecond.Select(d => d.Current).Should().Equal(true, false);
        seenByFirst[0].Created.Should().BeOnOrAfter(seenByFirst[1].Created);
        seenByFirst.Should().OnlyContain(d => d.LastSeen >= d.Created && d.Handle.Length == 43);
        seenByFirst.Select(d => d.Handle).Should().NotContain([first.Cookie!, second.Cookie!], "a handle is never the session ID");

        using var anonymous = NewClient();
        (await anonymous.GetAsync("/devices")).Status.Should().Be(403);
    }

    [Test]
    public async Task Revoking_a_device_signs_it_out_on_its_next_request()
    {
        var user = NewUser();
        using var phone = NewClient();
        using var laptop = NewClient();
        await phone.GetAsync("/login?user=" + user);
        await laptop.GetAsync("/login?user=" + user);
        var phoneHandle = (await DevicesAsync(laptop)).Single(d => !d.Current).Handle;

        var revoke = await laptop.GetAsync("/devices/revoke?handle=" + phoneHandle);

        revoke.Status.Should().Be(200);
        revoke.Body.Should().Be("revoked");
        (await phone.GetAsync("/secret")).Status.Should().Be(403, "the revoked device is signed out");
        (await phone.GetAsync("/devices")).Status.Should().Be(403);
        (await laptop.GetAsync("/secret")).Status.Should().Be(200);
        (await DevicesAsync(laptop)).Should().ContainSingle().Which.Current.Should().BeTrue();
        (await laptop.GetAsync("/devices/revoke?handle=" + phoneHandle)).Status.Should().Be(404, "it is gone");
        (await laptop.GetAsync("/devices/revoke?handle=" + laptop.Cookie)).Status.Should().Be(404, "a session ID is not a handle");
        (await laptop.GetAsync("/devices/revoke?handle=nonsense")).Status.Should().Be(404);
    }

    [Test]
    public async Task A_device_of_another_user_cannot_be_revoked()
    {
        using var alice = NewClient();
        using var mallory = NewClient();
        await alice.GetAsync("/login?user=" + NewUser());
        await mallory.GetAsync("/login?user=" + NewUser());
        var aliceHandle = (await DevicesAsync(alice)).Single().Handle;

        (await mallory.GetAsync("/devices/revoke?handle=" + aliceHandle)).Status.Should().Be(404);

        (await alice.GetAsync("/secret")).Status.Should().Be(200);
    }

    [Test]
    public async Task Logout_everywhere_signs_out_every_device_of_the_user()
    {
        var user = NewUser();
        using var first = NewClient();
        using var second = NewClient();
        using var other = NewClient();
        await first.GetAsync("/login?user=" + user);
        await second.GetAsync("/login?user=" + user);
        await other.GetAsync("/login?user=" + NewUser());

        var reply = await first.GetAsync("/logout/everywhere");

        reply.Body.Should().Be("2");
        first.Cookie.Should().BeNull("the current session's cookie is expired too");
        (await first.GetAsync("/secret")).Status.Should().Be(403);
        (await second.GetAsync("/secret")).Status.Should().Be(403);
        (await other.GetAsync("/secret")).Status.Should().Be(200, "another user's session is untouched");
    }

    [Test]
    public async Task Logout_others_keeps_this_device()
    {
        var user = NewUser();
        using var first = NewClient();
        using var second = NewClient();
        await first.GetAsync("/login?user=" + user);
        await second.GetAsync("/login?user=" + user);

        (await first.GetAsync("/logout/others")).Body.Should().Be("1");

        (await first.GetAsync("/secret")).Status.Should().Be(200);
        (await second.GetAsync("/secret")).Status.Should().Be(403);
        (await DevicesAsync(first)).Should().ContainSingle();
        (await first.GetAsync("/logout/others")).Body.Should().Be("0");
    }

    [Test]
    public async Task A_sign_in_beyond_the_limit_evicts_the_least_recently_seen_device()
    {
        var user = NewUser();
        using var first = NewClient();
        using var second = NewClient();
        using var third = NewClient();
        await first.GetAsync("/login?user=" + user);
        await second.GetAsync("/login?user=" + user);
        (await DevicesAsync(second)).Should().HaveCount(2, "exactly the limit is kept");

        await third.GetAsync("/login?user=" + user);

        (await first.GetAsync("/secret")).Status.Should().Be(403, "the least recently seen device was signed out");
        (await second.GetAsync("/secret")).Status.Should().Be(200);
        (await third.GetAsync("/secret")).Status.Should().Be(200, "the device signing in is never evicted");
        (await DevicesAsync(third)).Should().HaveCount(2);
    }

    private static async Task<List<Device>> DevicesAsync(SampleClient client)
    {
        var reply = await client.GetAsync("/devices");
        reply.Status.Should().Be(200);
        reply.ContentType.Should().Be("application/json; charset=utf-8");
        using var json = JsonDocument.Parse(reply.Body);
        return json.RootElement.EnumerateArray().Select(d => new Device(
            d.GetProperty("handle").GetString()!,
            d.GetProperty("current").GetBoolean(),
            d.GetProperty("created").GetDateTimeOffset(),
            d.GetProperty("lastSeen").GetDateTimeOffset())).ToList();
    }

    private sealed record Device(string Handle, bool Current, DateTimeOffset Created, DateTimeOffset LastSeen);
}

/// <summary>The samples' <c>--max-sessions-per-user</c> option.</summary>
public sealed class MaxSessionsPerUserOptionTests
{
    [Test]
    public void The_option_reads_a_whole_number_and_defaults_to_unlimited()
    {
        Sessions.Samples.SampleOptions.Parse(["--max-sessions-per-user", "3"]).MaxSessionsPerUser.Should().Be(3);
        Sessions.Samples.SampleOptions.Parse([]).MaxSessionsPerUser.Should().Be(0);
    }

    [TestCase("-1")]
    [TestCase("two")]
    public void A_value_that_is_not_a_whole_number_is_refused_naming_it(string value)
    {
        var parse = () => Sessions.Samples.SampleOptions.Parse(["--max-sessions-per-user", value]);

        parse.Should().Throw<ArgumentException>().WithMessage($"Invalid --max-sessions-per-user '{value}'*");
    }
}
