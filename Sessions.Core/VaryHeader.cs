namespace Sessions;

/// <summary>The <c>Vary</c> check every adapter makes when it marks a session response private.</summary>
internal static class VaryHeader
{
    /// <summary>Whether a <c>Vary</c> value already names <paramref name="field"/> (or <c>*</c>, which varies on everything).</summary>
    public static bool Names(string? vary, string field)
    {
        if (vary is null)
            return false;
        foreach (var part in vary.Split(','))
        {
            var name = part.Trim();
            if (name == "*" || string.Equals(name, field, StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return false;
    }
}
