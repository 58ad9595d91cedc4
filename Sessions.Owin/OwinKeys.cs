namespace Sessions.Owin;

/// <summary>The OWIN 1.0 environment keys the adapter reads (owin.org, OWIN specification 1.0).</summary>
internal static class OwinKeys
{
    public const string RequestHeaders = "owin.RequestHeaders";
    public const string ResponseHeaders = "owin.ResponseHeaders";
    public const string ResponseBody = "owin.ResponseBody";
    public const string RequestScheme = "owin.RequestScheme";
    public const string OnSendingHeaders = "server.OnSendingHeaders";
    public const string ResponseStatusCode = "owin.ResponseStatusCode";
    public const string CallCancelled = "owin.CallCancelled";
    public const string RemoteIpAddress = "server.RemoteIpAddress";

    /// <summary>The known proxies (<see cref="OwinSessionOptions.KnownProxies"/>) the middleware hands the request's carrier (namespaced, per the OWIN key guidelines).</summary>
    public const string KnownProxies = "sessions.KnownProxies";
}
