namespace Sessions;

/// <summary>Character rules of RFC 6265 for what the configuration puts into a <c>Set-Cookie</c>.</summary>
internal static class CookieText
{
    private const string Separators = "()<>@,;:\\\"/[]?={} \t";

    public static bool IsToken(string text)
    {
        foreach (var c in text)
        {
            if (c <= 0x20 || c >= 0x7F || Separators.IndexOf(c) >= 0)
                return false;
        }
        return true;
    }

    public static bool IsAttributeValue(string text)
    {
        foreach (var c in text)
        {
            if (c < 0x20 || c >= 0x7F || c == ';')
                return false;
        }
        return true;
    }

    public static bool IsDomain(string text)
    {
        var start = text[0] == '.' ? 1 : 0;
        if (start == text.Length)
            return false;
        for (var i = start; i < text.Length; i++)
        {
            var c = text[i];
            var ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || (c == '.' && i > start && text[i - 1] != '.');
            if (!ok)
                return false;
        }
        return text[text.Length - 1] != '.';
    }
}
