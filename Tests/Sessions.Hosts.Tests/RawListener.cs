using System.Net;

namespace Sessions.Hosts.Tests;

/// <summary>
/// A raw <see cref="System.Net.HttpListener"/> for tests that wire the HttpListener adapter themselves: each request is
/// served on the thread pool by <c>serve</c>, and its response is closed afterwards. Dispose to stop listening.
/// </summary>
internal sealed class RawListener : IAsyncDisposable
{
    private readonly System.Net.HttpListener _listener = new();
    private readonly Task _loop;

    private RawListener(string url, Func<HttpListenerContext, Task> serve)
    {
        _listener.Prefixes.Add(url + "/");
        _listener.Start();
        _loop = Task.Run(() => AcceptAsync(serve));
    }

    public static RawListener Start(string url, Func<HttpListenerContext, Task> serve) => new(url, serve);

    private async Task AcceptAsync(Func<HttpListenerContext, Task> serve)
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(async () =>
            {
                try
                {
                    await serve(context);
                }
                finally
                {
                    context.Response.Close();
                }
            });
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
