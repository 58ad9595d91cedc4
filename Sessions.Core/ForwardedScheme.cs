using System.Net;

namespace Sessions;

/// <summary>Whether a request forwarded by a known proxy arrived at that proxy over HTTPS (<c>X-Forwarded-Proto</c>).</summary>
internal static class ForwardedScheme
{
    /// <summary>The proxies, IPv4-mapped IPv6 addresses as IPv4, so a comparison with a normalized remote address is exact.</summary>
    public static IPAddress[] Normalize(IEnumerable<IPAddress> proxies)
    {
        var list = new List<IPAddress>();
        foreach (var proxy in proxies ?? throw new ArgumentNullException(nameof(proxies)))
            list.Add(Normalize(proxy ?? throw new ArgumentException("A known proxy address is null.", nameof(proxies))));
        return list.ToArray();
    }

    /// <summary>
    /// <see langword="true"/> when <paramref name="remote"/> (the connection's peer) is one of <paramref name="proxies"/> and the
    /// last value of its <c>X-Forwarded-Proto</c> (the one that proxy appended) is <c>https</c>. Any other peer's header is ignored.
    /// </summary>
    public static bool IsHttps(IPAddress[]? proxies, IPAddress? remote, string? forwardedProto)
    {
        if (proxies is not { Length: > 0 } || remote is null || string.IsNullOrEmpty(forwardedProto))
            return false;
        if (Array.IndexOf(proxies, Normalize(remote)) < 0)
            return false;
        var comma = forwardedProto!.LastIndexOf(',');
        var scheme = (comma < 0 ? forwardedProto : forwardedProto.Substring(comma + 1)).Trim();
        return string.Equals(scheme, "https", StringComparison.OrdinalIgnoreCase);
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
