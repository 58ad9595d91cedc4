namespace Sessions;

public sealed partial class Session
{
    /// <summary>
    /// This session's fingerprint (see <see cref="SessionManager.Fingerprint"/>): a short keyed hash of its ID to name it
    /// in the application's logs and events, which must never hold the ID itself.
    /// </summary>
    public string Fingerprint => _manager.Fingerprint(Id);
}
