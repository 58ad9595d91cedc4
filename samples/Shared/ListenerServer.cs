using System.Net;

namespace Sessions.Samples;

/// <summary>
/// A small HttpListener server for the samples: listens on the <c>--urls</c> (as prefixes with the trailing slash
/// HttpListener requires), hands each request to a handler on the thread pool, and stops when disposed.
/// </summary>
public sealed class ListenerServer : IAsyncDisposable
{
    private readonly System.Net.HttpListener _listener = new();
    private readonly Func<HttpListenerContext, Task> _handler;
    private readonly IDisposable? _owned;
    private readonly Task _loop;

    internal ListenerServer(IReadOnlyList<string> urls, Func<HttpListenerContext, Task> handler, IDisposable? owned = null)
    {
        _handler = handler;
        _owned = owned;
        try
        {
            foreach (var url in urls)
                _listener.Prefixes.Add(url + "/");
            _listener.Start();
        }
        catch
        {
            // Not listening (port taken, bad prefix): release what the server was to own, e.g. the embedded database's lock.
            _listener.Close();
            owned?.Dispose();
            throw;
        }
        Urls = urls;
        _loop = Task.Run(AcceptAsync);
    }

    /// <summary>The URLs listened on, without trailing slash (e.g. <c>http://127.0.0.1:8080</c>).</summary>
    public IReadOnlyList<string> Urls { get; }

    private async Task AcceptAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }
            _ = Task.Run(() => ServeAsync(context));
        }
    }

    private async Task ServeAsync(HttpListenerContext context)
    {
        try
        {
            await _handler(context).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("Request failed: " + e);
            try
            {
                context.Response.StatusCode = 500;
            }
            catch (InvalidOperationException)
            {
                // headers already sent
            }
        }
        finally
        {
            try
            {
                context.Response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                // the client went away
            }
        }
    }

    /// <summary>Stops listening.</summary>
    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop.ConfigureAwait(false);
        _owned?.Dispose();
    }
}
