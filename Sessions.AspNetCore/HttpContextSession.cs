using Microsoft.AspNetCore.Http;

namespace Sessions.AspNetCore;

/// <summary>
/// ASP.NET Core's <see cref="ISession"/> (<c>HttpContext.Session</c>) over this library's <see cref="Session"/>, installed
/// by <see cref="SessionFeatureApplicationBuilderExtensions.UseSessionsAsSessionFeature"/>. The session is already loaded,
/// asynchronously, when the application sees it, so no member ever blocks on the database; values map onto this library's
/// values as <see cref="SessionBytes"/> describes.
/// </summary>
internal sealed class HttpContextSession(Session session) : ISession
{
    /// <summary>The session behind <c>HttpContext.Session</c>, for code that also wants the native API.</summary>
    public Session Session { get; } = session;

    /// <summary>Whether the session could be loaded: <see langword="false"/> when the database failed and the configuration fails open (<see cref="SessionDatabaseFailureMode.ContinueUnsaved"/>).</summary>
    public bool IsAvailable => !Session.IsUnsaved;

    /// <summary>
    /// A stable identifier of the session that is not its ID: the base64url SHA-256 of the ID, as databases key it. It
    /// cannot be turned back into the cookie's value, so logging it does not hand out the session (ASP.NET Core's own
    /// <c>Id</c> is likewise not the cookie's value). It changes with <c>RenewId</c>.
    /// </summary>
    public string Id => SessionIds.HashText(Session.Id);

    public IEnumerable<string> Keys => Session.GetAll().Keys;

    /// <summary>Nothing to do: the middleware loaded the session asynchronously before the application ran.</summary>
    public Task LoadAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <summary>Commits through the manager's commit path (<see cref="Session.CommitAsync"/>): a new session gets its cookie once stored.</summary>
    public Task CommitAsync(CancellationToken cancellationToken = default) => Session.CommitAsync(cancellationToken).AsTask();

    public bool TryGetValue(string key, out byte[] value)
    {
        if (key is null)
            throw new ArgumentNullException(nameof(key));
        var stored = Session.Get(key);
        byte[]? bytes;
        try
        {
            if (!SessionBytes.TryFromValue(stored, out bytes))
            {
                value = null!;
                return false;
            }
        }
        catch (Exception e) when (e is NotSupportedException or System.Text.Json.JsonException or InvalidOperationException)
        {
            throw new InvalidOperationException($"The session value '{key}' of type {stored!.GetType()} has no JSON form, so HttpContext.Session cannot read it as bytes; read it with the native API.", e);
        }
        value = bytes!;
        return true;
    }

    public void Set(string key, byte[] value)
    {
        if (key is null)
            throw new ArgumentNullException(nameof(key));
        if (value is null)
            throw new ArgumentNullException(nameof(value));
        Session.Set(key, SessionBytes.ToValue(value));
    }

    public void Remove(string key)
    {
        if (key is null)
            throw new ArgumentNullException(nameof(key));
        Session.Delete(key);
    }

    public void Clear() => Session.Clear();
}
