using System.Text;

namespace Sessions.Hosts.Tests;

/// <summary>
/// Attacks through the <c>Cookie</c> header, over real HTTP on every host and store: a comma inside another cookie's
/// value that plants the attacker's session, whether the header comes as one field or as two (each host joins several
/// fields itself, and they used to disagree), and cookie bombing that hides the victim's cookie behind padding or decoy
/// values. The attacker's session holds only <c>counter</c>, the victim's only <c>name</c>, so <c>/all</c> tells them apart.
/// </summary>
[TestFixtureSource(typeof(SampleHost), nameof(SampleHost.HostsAndStores))]
[Parallelizable(ParallelScope.Self)]
public sealed class CookieHeaderAttackHostTests(string hostName, string store)
{
    private const string Victims = """{"name":"iris"}""";
    private const string Attackers = """{"counter":1}""";
    private const string Nobody = "{}";

    private SampleHost _host = null!;

    [OneTimeSetUp]
    public async Task StartHost() => _host = await SampleHost.StartAsync(hostName, store);

    [OneTimeTearDown]
    public async Task StopHost() => await _host.DisposeAsync();

    private SampleClient NewClient() => new(_host.BaseAddress);

    /// <summary>The attacker's and the victim's live session IDs, each checked to read back as its owner's.</summary>
    private async Task<(string Attacker, string Victim)> TwoSessionsAsync()
    {
        using var attacker = NewClient();
        (await attacker.GetAsync("/counter")).Body.Should().Be("1");
        using var victim = NewClient();
        (await victim.GetAsync("/set")).Body.Should().Be("All ok session setted to: iris");
        (await attacker.GetAsync("/all")).Body.Should().Be(Attackers);
        (await victim.GetAsync("/all")).Body.Should().Be(Victims);
        return (attacker.Cookie!, victim.Cookie!);
    }

    private async Task<Reply> AllWithLinesAsync(params string[] lines)
    {
        using var client = NewClient();
        return await client.SendRawAsync("/all", lines.Select(Encoding.ASCII.GetBytes).ToArray());
    }

    private async Task<Reply> AllWithHeaderAsync(string header)
    {
        using var client = NewClient();
        return await client.SendAsync(HttpMethod.Get, "/all", header);
    }

    [Test]
    public async Task Comma_planted_session_in_two_Cookie_fields_is_never_used_and_the_victims_is()
    {
        var (attacker, victim) = await TwoSessionsAsync();

        var reply = await AllWithLinesAsync($"Cookie: pref=x,sid={attacker}", $"Cookie: sid={victim}");

        reply.Status.Should().Be(200);
        reply.Body.Should().Be(Victims, "the fields are joined with \"; \" and a comma is part of pref's value");
        reply.SetCookies.Should().BeEmpty();
    }

    [Test]
    public async Task Comma_planted_session_in_the_second_Cookie_field_is_never_used_and_the_victims_is()
    {
        var (attacker, victim) = await TwoSessionsAsync();

        var reply = await AllWithLinesAsync($"Cookie: sid={victim}", $"Cookie: pref=x,sid={attacker}");

        reply.Status.Should().Be(200);
        reply.Body.Should().NotBe(Attackers);
        // .NET's managed HttpListener keeps only the last field of a repeated request header (it sets, not adds, each
        // line), so the victim's field never reaches the adapter on the samples it serves (HttpListener, and the OWIN
        // sample's small server); no host adopts the planted session.
        reply.Body.Should().Be(hostName is "HttpListener" or "Owin" ? Nobody : Victims);
        reply.SetCookies.Should().BeEmpty();
    }

    [Test]
    public async Task Comma_planted_session_alone_in_one_of_two_Cookie_fields_is_never_adopted()
    {
        var (attacker, _) = await TwoSessionsAsync();

        var reply = await AllWithLinesAsync("Cookie: theme=dark", $"Cookie: pref=x,sid={attacker}");

        reply.Body.Should().Be(Nobody);
        reply.SetCookies.Should().BeEmpty();
    }

    [Test]
    public async Task Comma_planted_session_in_one_Cookie_field_is_never_used_and_the_victims_is()
    {
        var (attacker, victim) = await TwoSessionsAsync();

        (await AllWithHeaderAsync($"pref=x,sid={attacker}; sid={victim}")).Body.Should().Be(Victims);
        (await AllWithHeaderAsync($"pref=x,sid={attacker}")).Body.Should().Be(Nobody);
        (await AllWithHeaderAsync($"sid=x,sid={attacker}")).Body.Should().Be(Nobody);
    }
}
