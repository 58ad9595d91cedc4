using System.Net;
using System.Text.RegularExpressions;

namespace Sessions.Hosts.Tests;

/// <summary>
/// Events across instances, as a user tries them with the samples: two sample processes (different hosts) sharing one
/// Redis and prefix with <c>--events on</c>, and a third on another prefix. The second hears the Created and, once Redis
/// expires the key, the Expired of a session the first created; the third hears nothing of them, only its own.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class SampleEventsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Test]
    public async Task A_second_sample_on_the_same_prefix_hears_Created_and_Expired_and_one_on_another_prefix_hears_nothing()
    {
        var prefix = "evt" + Guid.NewGuid().ToString("N")[..8] + ":";
        string[] shared = ["--store", "redis", "--redis", SharedRedis.Endpoint, "--events", "on", "--expires", "00:00:02"];
        using var first = await SampleProcess.StartAsync("HttpListener", [.. shared, "--redis-prefix", prefix]);
        using var second = await SampleProcess.StartAsync("AspNetCore", [.. shared, "--redis-prefix", prefix]);
        using var other = await SampleProcess.StartAsync("Owin", [.. shared, "--redis-prefix", "other" + prefix]);

        using var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = first.BaseAddress };
        (await client.GetStringAsync("/set")).Should().Be("All ok session setted to: iris");

        var created = await WaitForLineAsync(first, @"^event: Created (\S+) local$");
        var hash = created.Groups[1].Value;
        await WaitForLineAsync(second, $@"^event: Created {Regex.Escape(hash)} remote$");
        var expired = await WaitForLineAsync(second, $@"^event: (Expired|Destroyed) {Regex.Escape(hash)} remote$");
        expired.Groups[1].Value.Should().Be("Expired");

        // The other prefix's silence means something only if it hears its own events.
        using var otherClient = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = other.BaseAddress };
        await otherClient.GetStringAsync("/set");
        await WaitForLineAsync(other, @"^event: Created \S+ local$");
        other.Output.Should().NotContain(hash, "another prefix never hears this application's events");
        other.Output.Should().NotContain(" remote");
        foreach (var process in new[] { first, second, other })
            TestContext.Out.WriteLine($"{process.Name}:\n{process.Output}");
    }

    private static async Task<Match> WaitForLineAsync(SampleProcess process, string pattern)
    {
        var regex = new Regex(pattern, RegexOptions.Multiline);
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var match = regex.Match(process.Output.Replace("\r", ""));
            if (match.Success)
                return match;
            if (DateTime.UtcNow > deadline)
                throw new AssertionException($"{process.Name} printed no line matching {pattern} within {Patience.TotalSeconds} s; it printed:\n{process.Output}");
            await Task.Delay(100);
        }
    }
}
