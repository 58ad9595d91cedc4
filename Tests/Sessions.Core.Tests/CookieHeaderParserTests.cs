namespace Sessions.Core.Tests;

/// <summary>The one Cookie header parser every host uses (docs/security.md).</summary>
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
    public void ReturnsEveryDuplicate_TheManagerBoundsTheLookups()
    {
        var header = string.Join("; ", Enumerable.Range(0, 50).Select(i => $"sid=v{i}"));

        Values(header).Should().HaveCount(50).And.StartWith("v0").And.EndWith("v49");
    }

    [Test]
    public void ReadsTheWholeHeader_PaddingCannotHideOurCookie()
    {
        var padding = "x=" + new string('a', 100 * 1024);

        Values($"{padding}; sid=late").Should().Equal("late");
        Values("sid=" + new string('b', 100 * 1024)).Should().ContainSingle()
            .Which.Should().HaveLength(100 * 1024, "a long value is returned whole, for the ID gate to reject");
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
