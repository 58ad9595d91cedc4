using System.Text;

namespace Sessions.Hosts.Tests;

/// <summary>
/// Odd <c>Cookie</c> headers, each sent to <c>/get</c> on a host that holds a live session <c>{id}</c> (name=iris):
/// Whether the session is adopted must not depend on the host (ASVS 5.0 1.5.3; docs/security.md).
/// </summary>
public static class OddCookieCases
{
    private const string Adopted = "The name on the /set was: iris";
    private const string NotAdopted = "The name on the /set was: ";

    /// <summary>Headers HttpClient sends as given: (name, header template, expected body).</summary>
    public static IEnumerable<TestCaseData> Ascii()
    {
        yield return Case("plain", "sid={id}", Adopted);
        yield return Case("empty header", "", NotAdopted);
        yield return Case("empty value", "sid=", NotAdopted);
        yield return Case("name only", "sid", NotAdopted);
        yield return Case("spaces around", "  sid = {id}  ", Adopted);
        yield return Case("duplicated, bogus first", "sid=bogus; sid={id}", Adopted);
        yield return Case("duplicated, live first", "sid={id}; sid=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", Adopted);
        yield return Case("duplicated, unknown well-formed first", "sid=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; sid={id}", Adopted);
        yield return Case("quoted", "sid=\"{id}\"", Adopted);
        yield return Case("half quoted", "sid=\"{id}", NotAdopted);
        yield return Case("comma-joined, not a separator", "a=1, sid={id}", NotAdopted);
        yield return Case("comma-joined, no space, not a separator", "a=1,sid={id},b=2", NotAdopted);
        yield return Case("comma inside another value, then ours", "a=1,b=2; sid={id}", Adopted);
        yield return Case("other name case", "SID={id}", NotAdopted);
        yield return Case("prefix of the name", "xsid={id}", NotAdopted);
        yield return Case("id with suffix", "sid={id}x", NotAdopted);
        yield return Case("id truncated", "sid={id:truncated}", NotAdopted);
        yield return Case("bad characters", "sid={id:dotted}", NotAdopted);
        yield return Case("oversized value", "sid=" + new string('a', 5000), NotAdopted);
        yield return Case("live id after 8 KB", "pad=" + new string('a', 9000) + "; sid={id}", Adopted);
        yield return Case("live id after 20 KB of padding", string.Concat(Enumerable.Range(0, 20).Select(i => $"pad{i}={new string('a', 1000)}; ")) + "sid={id}", Adopted);
        yield return Case("live id before 8 KB of padding", "sid={id}; pad=" + new string('a', 9000), Adopted);
        yield return Case("five values, live one last", "sid=1; sid=2; sid=3; sid=4; sid={id}", Adopted);
        yield return Case("seven well-formed decoys, live one last", Decoys(7) + "sid={id}", Adopted);
        yield return Case("eight well-formed decoys, live one past the lookup bound", Decoys(8) + "sid={id}", NotAdopted);
        yield return Case("fifty repeats of one decoy, live one last", string.Concat(Enumerable.Repeat("sid=" + Decoy(0) + "; ", 50)) + "sid={id}", Adopted);
    }

    /// <summary>Header lines HttpClient will not send (raw bytes): (name, header lines, expected body).</summary>
    public static IEnumerable<TestCaseData> Raw()
    {
        yield return RawCase("non-ASCII in another cookie", Adopted, "Cookie: x=\u00e9\u00e8; sid={id}");
        yield return RawCase("non-ASCII after the id", NotAdopted, "Cookie: sid={id}\u00e9");
        yield return RawCase("non-ASCII name", NotAdopted, "Cookie: s\u00efd={id}");
        yield return RawCase("two Cookie header lines", Adopted, "Cookie: a=1", "Cookie: sid={id}");
        yield return RawCase("two Cookie header lines, bogus first", Adopted, "Cookie: sid=bogus", "Cookie: sid={id}");
        yield return RawCase("empty Cookie header line", NotAdopted, "Cookie: ");
    }

    /// <summary>A well-formed session ID that names no session (43 base64url characters).</summary>
    private static string Decoy(int index) => new string('A', 41) + (char)('a' + (index / 26)) + (char)('a' + (index % 26));

    private static string Decoys(int count) => string.Concat(Enumerable.Range(0, count).Select(i => "sid=" + Decoy(i) + "; "));

    public static string Fill(string template, string id) => template
        .Replace("{id:truncated}", id.Substring(0, 21), StringComparison.Ordinal)
        .Replace("{id:dotted}", id.Substring(0, 20) + "." + id.Substring(21), StringComparison.Ordinal)
        .Replace("{id}", id, StringComparison.Ordinal);

    public static byte[][] FillRaw(string[] lines, string id) => lines.Select(line => Encoding.UTF8.GetBytes(Fill(line, id))).ToArray();

    private static TestCaseData Case(string name, string header, string expected) =>
        new TestCaseData(header, expected).SetArgDisplayNames(name);

    private static TestCaseData RawCase(string name, string expected, params string[] lines) =>
        new TestCaseData(lines, expected).SetArgDisplayNames(name);
}
