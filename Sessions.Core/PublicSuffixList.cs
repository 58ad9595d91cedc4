using System.Globalization;
using System.Net;

namespace Sessions;

/// <summary>
/// The Public Suffix List (publicsuffix.org), used to find a host's registrable domain so a shared session cookie
/// is never set on a public suffix such as <c>co.uk</c>. Rules follow the list's algorithm: normal, wildcard (<c>*.</c>) and exception (<c>!</c>) rules.
/// </summary>
public sealed class PublicSuffixList
{
    /// <summary>Where Debian and most Linux distributions install the list (package <c>publicsuffix</c>).</summary>
    public static readonly IReadOnlyList<string> SystemPaths =
    [
        "/usr/share/publicsuffix/public_suffix_list.dat",
        "/usr/share/publicsuffix/effective_tld_names.dat",
    ];

    private readonly HashSet<string> _rules;
    private readonly HashSet<string> _wildcards;
    private readonly HashSet<string> _exceptions;

    private PublicSuffixList(HashSet<string> rules, HashSet<string> wildcards, HashSet<string> exceptions)
    {
        _rules = rules;
        _wildcards = wildcards;
        _exceptions = exceptions;
    }

    /// <summary>The number of rules read.</summary>
    public int Count => _rules.Count + _wildcards.Count + _exceptions.Count;

    /// <summary>Parses the list's text format (one rule per line, <c>//</c> comments). Unicode rules are converted to their ASCII (punycode) form.</summary>
    public static PublicSuffixList Parse(TextReader reader)
    {
        var rules = new HashSet<string>(StringComparer.Ordinal);
        var wildcards = new HashSet<string>(StringComparer.Ordinal);
        var exceptions = new HashSet<string>(StringComparer.Ordinal);
        var idn = new IdnMapping();
        while (reader.ReadLine() is { } line)
        {
            var rule = line.Trim();
            var space = rule.IndexOfAny([' ', '\t']);
            if (space >= 0)
                rule = rule.Substring(0, space);
            if (rule.Length == 0 || rule.StartsWith("//", StringComparison.Ordinal))
                continue;
            var set = rules;
            if (rule[0] == '!')
            {
                set = exceptions;
                rule = rule.Substring(1);
            }
            else if (rule.StartsWith("*.", StringComparison.Ordinal))
            {
                set = wildcards;
                rule = rule.Substring(2);
            }
            try
            {
                set.Add(idn.GetAscii(rule).ToLowerInvariant());
            }
            catch (ArgumentException)
            {
                // A rule that is not a valid domain cannot match a valid host.
            }
        }
        return new PublicSuffixList(rules, wildcards, exceptions);
    }

    /// <summary>Reads the list from a file.</summary>
    public static PublicSuffixList Load(string path)
    {
        using var reader = new StreamReader(path);
        return Parse(reader);
    }

    /// <summary>Loads the system's list from <see cref="SystemPaths"/>, or <see langword="null"/> when none is installed.</summary>
    public static PublicSuffixList? LoadSystemDefault()
    {
        foreach (var path in SystemPaths)
        {
            if (File.Exists(path))
                return Load(path);
        }
        return null;
    }

    /// <summary>
    /// The registrable domain (public suffix plus one label) of <paramref name="host"/>, lower-case;
    /// <see langword="null"/> when the host is itself a public suffix, an IP address, <c>localhost</c> or has no dot.
    /// </summary>
    public string? GetRegistrableDomain(string host)
    {
        host = host.TrimEnd('.').ToLowerInvariant();
        if (host.Length == 0 || host.IndexOf('.') < 0 || host.StartsWith(".", StringComparison.Ordinal) || host.Contains("..")
            || host == "localhost" || host.EndsWith(".localhost", StringComparison.Ordinal) || IPAddress.TryParse(host, out _))
            return null;
        var labels = host.Split('.');
        var suffixLabels = 1; // the implicit "*" rule
        for (var i = 0; i < labels.Length; i++)
        {
            var candidate = string.Join(".", labels, i, labels.Length - i);
            if (_exceptions.Contains(candidate))
            {
                suffixLabels = labels.Length - i - 1;
                break;
            }
            if (_rules.Contains(candidate))
            {
                suffixLabels = labels.Length - i;
                break;
            }
            if (i + 1 < labels.Length && _wildcards.Contains(string.Join(".", labels, i + 1, labels.Length - i - 1)))
            {
                suffixLabels = labels.Length - i;
                break;
            }
        }
        return labels.Length > suffixLabels ? string.Join(".", labels, labels.Length - suffixLabels - 1, suffixLabels + 1) : null;
    }
}
