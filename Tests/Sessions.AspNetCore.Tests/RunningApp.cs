using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sessions.AspNetCore;

namespace Sessions.AspNetCore.Tests;

/// <summary>An ASP.NET Core application running on Kestrel on a free loopback port, with clients that keep real cookies.</summary>
internal sealed class RunningApp : IAsyncDisposable
{
    private RunningApp(WebApplication app, Uri baseAddress)
    {
        App = app;
        BaseAddress = baseAddress;
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    public IServiceProvider Services => App.Services;

    /// <summary>Starts an application already built (e.g. the sample) and reads the port Kestrel bound.</summary>
    public static async Task<RunningApp> StartAsync(WebApplication app)
    {
        await app.StartAsync();
        var address = app.Urls.Single();
        new Uri(address).Port.Should().BePositive("Kestrel reports the port it bound");
        return new RunningApp(app, new Uri(address));
    }

    /// <summary>Builds and starts a small application with <c>AddSessions</c>/<c>UseSessions</c> and the given endpoints.</summary>
    public static Task<RunningApp> StartAsync(Action<WebApplication> map, Action<IServiceCollection>? services = null, Action<SessionConfig>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        services?.Invoke(builder.Services);
        builder.Services.AddSessions(configure);
        var app = builder.Build();
        app.UseSessions();
        map(app);
        return StartAsync(app);
    }

    /// <summary>A client that behaves like a browser: it stores and sends cookies.</summary>
    public HttpClient Browser(out CookieContainer cookies)
    {
        cookies = new CookieContainer();
        return new HttpClient(new HttpClientHandler { CookieContainer = cookies, UseCookies = true, AllowAutoRedirect = false }) { BaseAddress = BaseAddress };
    }

    /// <summary>A client that sends exactly the <c>Cookie</c> header a test gives and ignores <c>Set-Cookie</c>.</summary>
    public HttpClient Raw() => new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = BaseAddress };

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

/// <summary>Reading responses.</summary>
internal static class HttpTestExtensions
{
    public static async Task<HttpResponseMessage> GetAsync(this HttpClient client, string path, string? cookieHeader)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (cookieHeader is not null)
            request.Headers.TryAddWithoutValidation("Cookie", cookieHeader);
        return await client.SendAsync(request);
    }

    public static async Task<string> BodyAsync(this HttpClient client, string path, string? cookieHeader = null)
    {
        using var response = await client.GetAsync(path, cookieHeader);
        response.StatusCode.Should().Be(HttpStatusCode.OK, "GET {0} should succeed", path);
        return await response.Content.ReadAsStringAsync();
    }

    public static IReadOnlyList<string> SetCookies(this HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToList() : [];

    /// <summary>The value of the single <c>Set-Cookie</c> for <paramref name="name"/>.</summary>
    public static string SetCookieValue(this HttpResponseMessage response, string name = "sid")
    {
        var header = response.SetCookies().Should().ContainSingle(c => c.StartsWith(name + "=", StringComparison.Ordinal)).Subject;
        return header.Substring(name.Length + 1, header.IndexOf(';', StringComparison.Ordinal) - name.Length - 1);
    }

    public static string? Sid(this CookieContainer cookies, Uri address) => cookies.GetCookies(address)["sid"]?.Value;
}
