namespace Sessions.Core.Tests;

/// <summary>The one Cookie header parser every host uses (security.md §6.1 #4, #14).</summary>
public class CookieHeaderParserTests
{
    private static List<string> Values(string? header, string name = "sid")
    {
        var values = new List<string>();
        foreach (var value in CookieHeaderParser.Find(header, name))
            values.Add(value.ToString());
        return values;
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("   ")]
    [TestCase(";;;,,,")]
    [TestCase("other=1")]
    [TestCase("sid")]
    public void HeadersWithoutOurCookie_YieldNothing(string? header)
    {
        Values(header).Should().BeEmpty();
    }

    [Test]
    public void FindsTheValueAmongOtherCookies()
    {
        Values("a=1; sid=abc; b=2").Should().Equal("abc");
    }

    [Test]
    public void ReturnsDuplicatesInHeaderOrder()
    {
        Values("sid=one; x=1; sid=two").Should().Equal("one", "two");
    }

    [Test]
    public void DoesNotSplitOnCommas_ACommaIsPartOfTheValue()
    {
        Values("a=1, sid=abc,b=2").Should().BeEmpty("the only pair is a, whose value is \"1, sid=abc,b=2\"");
        Values("sid=abc,b=2; c=3").Should().Equal("abc,b=2");
        Values("a=1,sid=planted; sid=real").Should().Equal("real");
    }

    [Test]
    public void TrimsSpacesAndTabs_AroundNamesAndValues()
    {
        Values(" \t sid \t = \t abc \t ;").Should().Equal("abc");
    }

    [Test]
    public void UnwrapsDoubleQuotes_OnlyWhenBalanced()
    {
        Values("sid=\"abc\"").Should().Equal("abc");
        Values("sid=\"abc").Should().Equal("\"abc");
        Values("sid=\"").Should().Equal("\"");
    }

    [Test]
    public void KeepsEqualsSignsInsideTheValue()
    {
        Values("sid=a=b==").Should().Equal("a=b==");
    }

    [Test]
    public void ReturnsEmptyValues()
    {
        Values("sid=; sid=x").Should().Equal("", "x");
    }

    [Test]
    public void NamesAreCaseSensitive()
    {
        Values("SID=a; Sid=b; sid=c").Should().Equal("c");
        Values("sid=a", "SID").Should().BeEmpty();
    }

    [Test]
    public void ReturnsAtMostMaxValuesDuplicates()
    {
        var header = string.Join("; ", Enumerable.Range(0, 50).Select(i => $"sid=v{i}"));

        Values(header).Should().HaveCount(CookieHeaderParser.MaxValues).And.StartWith("v0");
    }

    [Test]
    public void ReadsOnlyTheFirstMaxHeaderLengthCharacters()
    {
        var padding = "x=" + new string('a', CookieHeaderParser.MaxHeaderLength);

        Values($"{padding}; sid=late").Should().BeEmpty();
        Values("sid=" + new string('b', CookieHeaderParser.MaxHeaderLength)).Should().ContainSingle()
            .Which.Should().HaveLength(CookieHeaderParser.MaxHeaderLength - 4, "a value crossing the cap is cut at it");
    }

    [Test]
    public void HugeHeader_IsParsedWithoutException()
    {
        var header = string.Concat(Enumerable.Repeat("k=v;", 1_000_000));
        Values(header).Should().BeEmpty();
    }

    [Test]
    public void NonAsciiAndControlCharacters_AreReturnedAsIs_ForTheIdGateToReject()
    {
        Values("sid=é\u0000x").Should().Equal("é\u0000x");
        SessionIds.IsWellFormed("é\u0000x".AsSpan()).Should().BeFalse();
    }
}
