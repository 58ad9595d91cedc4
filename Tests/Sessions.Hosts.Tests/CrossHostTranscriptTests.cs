namespace Sessions.Hosts.Tests;

/// <summary>
/// Runs one script of requests against every host and compares the normalized transcripts line by line with the
/// ASP.NET Core sample's: status, content type, body, Cache-Control, Allow and every Set-Cookie (IDs and dates
/// replaced by placeholders, everything else verbatim). Any difference between hosts fails.
/// </summary>
[Parallelizable(ParallelScope.Self)]
public sealed class CrossHostTranscriptTests
{
    [TestCaseSource(typeof(SampleHost), nameof(SampleHost.Stores))]
    public async Task Every_host_answers_the_same_script_identically(string store)
    {
        var transcripts = new Dictionary<string, List<string>>();
        foreach (var name in SampleHost.Names)
        {
            await using var host = await SampleHost.StartAsync(name, store);
            transcripts[name] = await RunScriptAsync(host);
        }

        var reference = transcripts["AspNetCore"];
        reference.Should().HaveCountGreaterThan(40);
        foreach (var name in SampleHost.Names)
        {
            var transcript = transcripts[name];
            transcript.Should().HaveCount(reference.Count, name);
            for (var i = 0; i < reference.Count; i++)
                transcript[i].Should().Be(reference[i], $"{name} on {store} must answer step {i} as ASP.NET Core does");
        }
    }

    private static async Task<List<string>> RunScriptAsync(SampleHost host)
    {
        var lines = new List<string>();
        using var client = new SampleClient(host.BaseAddress);
        async Task Step(string path) => lines.Add($"GET {path} -> {(await client.GetAsync(path)).Normalized()}");

        foreach (var path in new[]
        {
            "/", "/nope", "/get", "/update", "/destroy", "/renew", "/get_immutable", "/flash/get", "/flash/get?key=k",
            "/set", "/get", "/counter", "/counter", "/all", "/update", "/delete", "/delete", "/set_immutable", "/get_immutable",
            "/all", "/flash/set?key=k&value=v", "/flash/peek?key=k", "/flash/get?key=k", "/flash/get?key=k", "/renew", "/get",
            "/clear", "/all", "/destroy", "/get", "/destroy", "/SET/", "/flash/set?key=%C3%A9&value=%E2%82%AC", "/flash/get?key=%C3%A9",
        })
        {
            await Step(path);
        }
        lines.Add("POST /set -> " + (await client.SendAsync(HttpMethod.Post, "/set", null)).Normalized());

        // The odd Cookie headers, against a live session of this host.
        await client.GetAsync("/set");
        var id = client.Cookie!;
        foreach (var data in OddCookieCases.Ascii())
        {
            var header = OddCookieCases.Fill((string)data.Arguments[0]!, id);
            lines.Add($"{data.ArgDisplayNames![0]} -> {(await client.SendAsync(HttpMethod.Get, "/get", header)).Normalized()}");
            lines.Add($"{data.ArgDisplayNames![0]} /set -> {(await client.SendAsync(HttpMethod.Get, "/counter", header)).Normalized()}");
        }
        foreach (var data in OddCookieCases.Raw())
        {
            var reply = await client.SendRawAsync("/get", OddCookieCases.FillRaw((string[])data.Arguments[0]!, id));
            lines.Add($"{data.ArgDisplayNames![0]} -> {reply.Normalized()}");
        }
        return lines;
    }
}
