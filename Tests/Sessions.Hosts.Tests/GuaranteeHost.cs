using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sessions.AspNetCore;
using Sessions.HttpListener;
using Sessions.Owin;
using Sessions.Samples.Owin;
using Sessions.Testing;
using AppFunc = System.Func<System.Collections.Generic.IDictionary<string, object>, System.Threading.Tasks.Task>;

namespace Sessions.Hosts.Tests;

/// <summary>
/// One request of a <see cref="GuaranteeHost"/>'s application, the same operations on every host: the application is
/// written once and runs unchanged on ASP.NET Core, HttpListener and OWIN, each behind its own adapter.
/// </summary>
public interface IGuaranteeRequest
{
    string Path { get; }

    /// <summary>The synchronous <c>sessions.Start(...)</c> of the host's adapter.</summary>
    Session Start();

    /// <summary>The asynchronous <c>sessions.StartAsync(...)</c> of the host's adapter.</summary>
    ValueTask<Session> StartAsync();

    /// <summary>What the host's idiom needs before the body: nothing where middleware commits, <c>sessions.CommitAsync(context)</c> on HttpListener.</summary>
    ValueTask BeforeBodyAsync();

    /// <summary>Writes and flushes part of the body: the response has started afterwards.</summary>
    Task WriteAsync(string text);

    /// <summary>Sets the status of a response that has not started.</summary>
    void SetStatus(int status);
}

/// <summary>
/// A host (ASP.NET Core on Kestrel, a raw HttpListener, or the OWIN middleware on a small OWIN host) serving one
/// application on 127.0.0.1 with a given <see cref="SessionManager"/>, each wired the way its docs say: ASP.NET Core
/// with <c>app.UseSessions()</c>, OWIN with <c>SessionsOwinMiddleware</c>, HttpListener with an explicit commit before the
/// body and <c>TryAnswerSessionFailure</c> for failures.
/// </summary>
public sealed class GuaranteeHost : IAsyncDisposable
{
    private readonly Func<ValueTask> _stop;

    private GuaranteeHost(Uri baseAddress, Func<ValueTask> stop)
    {
        BaseAddress = baseAddress;
        _stop = stop;
    }

    public Uri BaseAddress { get; }

    public static async Task<GuaranteeHost> StartAsync(string host, SessionManager sessions, Func<IGuaranteeRequest, Task> app)
    {
        for (var attempt = 1; ; attempt++)
        {
            var url = $"http://127.0.0.1:{LoopbackPorts.Free()}";
            try
            {
                return host switch
                {
                    "AspNetCore" => await StartAspNetCoreAsync(url, sessions, app),
                    "HttpListener" => StartHttpListener(url, sessions, app),
                    "Owin" => StartOwin(url, sessions, app),
                    _ => throw new ArgumentOutOfRangeException(nameof(host), host, "Unknown host."),
                };
            }
            catch (Exception e) when (attempt < 5 && e is IOException or HttpListenerException or SocketException)
            {
                await Task.Delay(50);
            }
        }
    }

    public ValueTask DisposeAsync() => _stop();

    private static async Task<GuaranteeHost> StartAspNetCoreAsync(string url, SessionManager sessions, Func<IGuaranteeRequest, Task> app)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(sessions);
        var web = builder.Build();
        web.UseSessions();
        web.Run(context => app(new AspNetCoreRequest(context, sessions)));
        await web.StartAsync();
        return new GuaranteeHost(new Uri(url + "/"), async () =>
        {
            await web.StopAsync();
            await web.DisposeAsync();
        });
    }

    private static GuaranteeHost StartHttpListener(string url, SessionManager sessions, Func<IGuaranteeRequest, Task> app)
    {
        var listener = RawListener.Start(url, async context =>
        {
            try
            {
                await app(new HttpListenerRequest(context, sessions));
            }
            catch (Exception e) when (context.Response.TryAnswerSessionFailure(e))
            {
            }
        });
        return new GuaranteeHost(new Uri(url + "/"), listener.DisposeAsync);
    }

    private static GuaranteeHost StartOwin(string url, SessionManager sessions, Func<IGuaranteeRequest, Task> app)
    {
        AppFunc application = SessionsOwinMiddleware.Create(sessions)(environment => app(new OwinRequest(environment, sessions)));
        var server = OwinHttpListenerHost.Start([url], application, owned: null);
        return new GuaranteeHost(new Uri(url + "/"), server.DisposeAsync);
    }

    private sealed class AspNetCoreRequest(HttpContext context, SessionManager sessions) : IGuaranteeRequest
    {
        public string Path => context.Request.Path.Value ?? "/";

        public Session Start() => sessions.Start(context);

        public ValueTask<Session> StartAsync() => sessions.StartAsync(context);

        public ValueTask BeforeBodyAsync() => default;

        public async Task WriteAsync(string text)
        {
            await context.Response.WriteAsync(text);
            await context.Response.Body.FlushAsync();
        }

        public void SetStatus(int status) => context.Response.StatusCode = status;
    }

    private sealed class HttpListenerRequest(HttpListenerContext context, SessionManager sessions) : IGuaranteeRequest
    {
        public string Path => context.Request.Url?.AbsolutePath ?? "/";

        public Session Start() => sessions.Start(context);

        public ValueTask<Session> StartAsync() => sessions.StartAsync(context);

        public ValueTask BeforeBodyAsync() => sessions.CommitAsync(context);

        private bool _writing;

        public async Task WriteAsync(string text)
        {
            if (!_writing)
                context.Response.SendChunked = true; // the length is not known before the first write
            _writing = true;
            var bytes = System.Text.Encoding.UTF8.GetBytes(text);
            await context.Response.OutputStream.WriteAsync(bytes);
            await context.Response.OutputStream.FlushAsync();
        }

        public void SetStatus(int status) => context.Response.StatusCode = status;
    }

    private sealed class OwinRequest(IDictionary<string, object> environment, SessionManager sessions) : IGuaranteeRequest
    {
        public string Path => (string)environment["owin.RequestPath"];

        public Session Start() => sessions.Start(environment);

        public ValueTask<Session> StartAsync() => sessions.StartAsync(environment);

        public ValueTask BeforeBodyAsync() => default;

        public async Task WriteAsync(string text)
        {
            var body = (Stream)environment["owin.ResponseBody"]; // read after the session started, as Katana's Response.Body does
            await body.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text));
            await body.FlushAsync();
        }

        public void SetStatus(int status) => environment["owin.ResponseStatusCode"] = status;
    }
}
