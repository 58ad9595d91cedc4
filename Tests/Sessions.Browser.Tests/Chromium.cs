using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Playwright;

namespace Sessions.Browser.Tests;

/// <summary>
/// Debian's headless Chromium, driven through Playwright's node driver (shipped in the Microsoft.Playwright package).
/// The browser is the system one, launched by path: nothing is downloaded, and a machine without it fails the tests,
/// naming the package to install.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    /// <summary>Where Debian's <c>chromium</c> package installs the browser.</summary>
    public const string ExecutablePath = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;

    private Chromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    /// <summary>Starts the driver and the browser; fails (never skips) when the browser is not installed.</summary>
    public static async Task<Chromium> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
            Assert.Fail($"Chromium is missing: {ExecutablePath} does not exist. Install it with `apt-get install chromium` " +
                "(./build.sh does so when run as root); these tests drive the system browser and never download one.");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = ExecutablePath, Headless = true });
            TestContext.Out.WriteLine($"Browser: {ExecutablePath}, Chromium {browser.Version}");
            return new Chromium(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A cookie as Chromium itself keeps it, from the DevTools protocol (<c>Network.getCookies</c> for the page's URL):
    /// the exact expiry in Unix seconds (Playwright's cookie API rounds it to a float) and Chromium's own session flag.
    /// </summary>
    public sealed record StoredCookie(string Name, double Expires, bool Session);

    /// <summary>The cookies Chromium would send to the page's URL, as it stores them.</summary>
    public static async Task<IReadOnlyList<StoredCookie>> StoredCookiesAsync(IPage page)
    {
        var devTools = await page.Context.NewCDPSessionAsync(page);
        try
        {
            var result = await devTools.SendAsync("Network.getCookies");
            return result!.Value.GetProperty("cookies").EnumerateArray()
                .Select(c => new StoredCookie(c.GetProperty("name").GetString()!, c.GetProperty("expires").GetDouble(), c.GetProperty("session").GetBoolean()))
                .ToList();
        }
        finally
        {
            await devTools.DetachAsync();
        }
    }

    /// <summary>
    /// A cookie as the browser stored it, for the test output: every attribute, the exact expiry, the value only as its
    /// length and a fingerprint (enough to see it change, never the session ID itself).
    /// </summary>
    public static async Task<string> DescribeAsync(IPage page, BrowserContextCookiesResult cookie)
    {
        var stored = (await StoredCookiesAsync(page)).Single(c => c.Name == cookie.Name);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        var expires = stored.Session
            ? "session (until the browser closes)"
            : string.Create(CultureInfo.InvariantCulture,
                $"{DateTimeOffset.FromUnixTimeMilliseconds((long)(stored.Expires * 1000)):u} (in {stored.Expires - now:0} s)");
        return $"{cookie.Name}: domain={cookie.Domain} path={cookie.Path} httpOnly={cookie.HttpOnly} secure={cookie.Secure} " +
            $"sameSite={cookie.SameSite} expires={expires} value=<{cookie.Value.Length} chars, {Fingerprint(cookie.Value)}>";
    }

    /// <summary>The first 8 hex digits of the SHA-256 of a cookie value.</summary>
    public static string Fingerprint(string value) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..8];

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}
