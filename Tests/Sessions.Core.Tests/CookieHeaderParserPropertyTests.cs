using FsCheck;
using FsCheck.Fluent;

namespace Sessions.Core.Tests;

/// <summary>
/// Property-based tests of <see cref="CookieHeaderParser"/> with FsCheck: random and adversarial headers (separators,
/// commas, quotes, whitespace, control and non-ASCII characters, names that differ from ours in case, encoding or
/// prefix, and commas that try to plant our name inside another value) never make it throw, never yield a value that is
/// not a complete <c>name=value</c> pair of the header split on <c>;</c>, and never match another name.
/// </summary>
public class CookieHeaderParserPropertyTests
{
    private const int Runs = 2000;
    private const string Whitespace = " \t";

    /// <summary>The names we configure; each is checked against every generated header.</summary>
    private static readonly string[] OurNames = ["sid", "__Host-sid", "__Secure-sid"];

    /// <summary>Names a header may carry that are not ours: other case, percent-encoded, look-alike, other prefix, affixes.</summary>
    private static readonly string[] OtherNames =
    [
        "SID", "Sid", "sId", "%73id", "s%69d", "sid%00", "s\u0131d", "\u0455id", "\uFF53\uFF49\uFF44", "sid\u200B",
        "sid\u00A0", "\"sid\"", "s id", "xsid", "sidx", "_sid", "sid-", "__Host-SID", "__HOST-sid", "__host-sid",
        "__Host_sid", "__Host-", "__Secure-SID", "__SECURE-sid", "__secure-sid", "__Host-__Secure-sid", "Host-sid",
        "_Host-sid", "__Host%2Dsid", "__Secure-__Host-sid", "pref", "theme",
    ];

    private static readonly string[] Separators = [";", "; ", " ;", ";;", ",", ", ", ",;", "; ,", "\t;\t"];

    private static readonly Gen<string> ValueText =
        Gen.Elements("", "a", "x", "abc", "1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "a=b", "==", "\"", "\"v\"", "\"v",
                "v\"", ",", "x,y", " ", "\t", "\u00e9", "\u0000", "\r\n", "%3B", "\uD800", "\uFF1B")
            .ListOf().Select(parts => string.Concat(parts));

    /// <summary>Any name, ours among others, as it may appear before an <c>=</c>, with whitespace around.</summary>
    private static readonly Gen<string> AnyName =
        Gen.OneOf(Gen.Elements(OurNames), Gen.Elements(OtherNames), Gen.Elements("", " ", "a")).SelectMany(name =>
            Gen.Elements("", " ", "\t", "  ").SelectMany(before =>
                Gen.Elements("", " ", "\t").Select(after => before + name + after)));

    /// <summary>A header of well-formed-looking pairs joined by separators, commas included.</summary>
    private static readonly Gen<string> PairHeader =
        Gen.OneOf(
                AnyName.SelectMany(name => ValueText.Select(value => name + "=" + value)),
                AnyName,
                ValueText)
            .ListOf()
            .SelectMany(pairs => Gen.Elements(Separators).ArrayOf(pairs.Count).Select(separators =>
                string.Concat(pairs.Select((pair, i) => pair + separators[i]))));

    /// <summary>A soup of the tokens a header is made of, in any order.</summary>
    private static readonly Gen<string> TokenSoup =
        Gen.OneOf(
                Gen.Elements(OurNames),
                Gen.Elements(OtherNames),
                Gen.Elements("=", ";", ",", " ", "\t", "\"", "; ", ", "),
                ValueText)
            .ListOf()
            .Select(tokens => string.Concat(tokens));

    private static readonly Gen<string> AnyHeader = Gen.OneOf(PairHeader, TokenSoup, ArbMap.Default.GeneratorFor<string>());

    private static readonly Arbitrary<(string Header, string Name)> HeaderAndName =
        AnyHeader.SelectMany(header => Gen.Elements(OurNames).Select(name => (header, name))).ToArbitrary();

    private static List<string> Parse(string? header, string name)
    {
        var values = new List<string>();
        foreach (var value in CookieHeaderParser.Find(header, name))
            values.Add(value.ToString());
        return values;
    }

    /// <summary>The header's pairs as RFC 6265 clients send them: split on <c>;</c> only, names and values trimmed.</summary>
    private static IEnumerable<(string Name, string Value)> Pairs(string header) =>
        from piece in header.Split(';')
        let at = piece.IndexOf('=', StringComparison.Ordinal)
        where at >= 0
        select (piece.Substring(0, at).Trim(Whitespace.ToCharArray()), piece.Substring(at + 1).Trim(Whitespace.ToCharArray()));

    private static string Unquote(string value) =>
        value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? value.Substring(1, value.Length - 2) : value;

    [FsCheck.NUnit.Property(MaxTest = Runs)]
    public Property RandomAndAdversarialHeaders_NeverThrow() =>
        Prop.ForAll(HeaderAndName, input =>
        {
            _ = Parse(input.Header, input.Name);
            return true;
        });

    [FsCheck.NUnit.Property(MaxTest = Runs)]
    public Property AnyString_NeverThrows() =>
        Prop.ForAll(ArbMap.Default.ArbFor<string>(), ArbMap.Default.ArbFor<string>(), (header, name) =>
        {
            _ = Parse(header, name ?? "sid");
            return true;
        });

    [FsCheck.NUnit.Property(MaxTest = Runs)]
    public Property EveryValue_IsACompletePairOfOurExactName_InTheHeaderSplitOnSemicolons() =>
        Prop.ForAll(HeaderAndName, input =>
        {
            var pairs = Pairs(input.Header ?? string.Empty).ToList();
            return Parse(input.Header, input.Name).All(value =>
                pairs.Any(pair => pair.Name == input.Name && (pair.Value == value || pair.Value == "\"" + value + "\"")));
        });

    [FsCheck.NUnit.Property(MaxTest = Runs)]
    public Property TheValues_AreExactlyThoseOfOurNameInTheSemicolonSplitHeader_InOrder() =>
        Prop.ForAll(HeaderAndName, input =>
        {
            var expected = Pairs(input.Header ?? string.Empty).Where(pair => pair.Name == input.Name).Select(pair => Unquote(pair.Value));
            return Parse(input.Header, input.Name).SequenceEqual(expected);
        });

    [FsCheck.NUnit.Property(MaxTest = Runs)]
    public Property NamesThatDifferInCaseEncodingOrPrefix_NeverMatch_EvenWithOurNamePlantedAfterACommaInTheirValue()
    {
        // Pairs of other names only; values may carry ",<our name>=..." as a sibling subdomain's cookie can.
        var planted = Gen.Elements(OurNames).SelectMany(ours =>
            Gen.Elements(OtherNames).SelectMany(other =>
                ValueText.SelectMany(value =>
                    Gen.Elements("", ",", ", ", ",\t").Select(comma => comma.Length == 0 ? $"{other}={value}" : $"{other}={value}{comma}{ours}=planted")))
                .ListOf()
                .SelectMany(pairs => Gen.Elements(";", "; ", " ; ", ";;").ArrayOf(pairs.Count).Select(separators =>
                    (Header: string.Concat(pairs.Select((pair, i) => pair + separators[i])), Name: ours))));

        return Prop.ForAll(planted.ToArbitrary(), input =>
            !input.Header.Split(';').Any(piece => piece.Trim(Whitespace.ToCharArray()).StartsWith(input.Name + "=", StringComparison.Ordinal)) // precondition of the generator
            && Parse(input.Header, input.Name).Count == 0);
    }

    [Test]
    public void OurNameWithAnyCasingOfAPrefix_IsADifferentName_ToTheParser()
    {
        // The parser compares names exactly; the configuration treats prefixes case-insensitively (SessionConfig checks).
        Parse("__HOST-sid=a; __host-sid=b; __Host-sid=c", "__Host-sid").Should().Equal("c");
        Parse("__Host-sid=c", "__HOST-sid").Should().BeEmpty();
    }
}
