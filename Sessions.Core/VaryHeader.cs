namespace Sessions;

/// <summary>The <c>Vary</c> check every adapter makes when it marks a session response private.</summary>
internal static class VaryHeader
{
    /// <summary>Whether a <c>Vary</c> value already names <c>Cookie</c> (or <c>*</c>, which varies on everything).</summary>
    public static bool NamesCookie(string? vary)
    {
        if (vary is null)
            return false;
        foreach (var part in vary.Split(','))
        {
            var name = part.Trim();
            if (name == "*" || string.Equals(name, "Cookie", StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return false;
    }
}
