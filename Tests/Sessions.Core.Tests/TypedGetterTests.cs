using System.Text.Json;
using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>
/// Conversions depend on the value only, a missing
/// key throws <see cref="SessionKeyNotFoundException"/>, an impossible conversion <see cref="SessionValueConversionException"/>.
/// </summary>
public class TypedGetterTests
{
    private SessionManager _manager = null!;
    private Session _session = null!;

    [SetUp]
    public void SetUp()
    {
        _manager = NewManager();
        _session = _manager.Start(new TestCarrier());
    }

    [TearDown]
    public async Task TearDown()
    {
        await _session.DisposeAsync();
        _manager.Dispose();
    }

    private static IEnumerable<object> IntegralSources() =>
    [
        42, "42", "+42", 42L, (short)42, (byte)42, (sbyte)42, (ushort)42, 42u, 42ul, 42.0, 42f, 42m,
        JsonDocument.Parse("42").RootElement,
    ];

    [TestCaseSource(nameof(IntegralSources))]
    public void GetInt32_ReadsAnyIntegralNumberOrDecimalText_Tolerantly_OurBehaviour(object stored)
    {
        _session.Set("k", stored);
        _session.GetInt32("k").Should().Be(42);
        _session.GetInt64("k").Should().Be(42L);
        _session.Get<int>("k").Should().Be(42);
    }

    [TestCase("abc")]
    [TestCase(" 42 ")]
    [TestCase("0.1")]
    [TestCase("")]
    [TestCase("4 2")]
    [TestCase("42abc")]
    public void GetInt32_OnTextThatIsNotAnInt_ThrowsAConversionExceptionNamingKeyAndTypes(string stored)
    {
        _session.Set("count", stored);

        _session.Invoking(s => s.GetInt32("count")).Should().Throw<SessionValueConversionException>()
            .Where(e => e.Key == "count" && e.TargetType == typeof(int))
            .WithMessage("*'count'*System.String*System.Int32*");
        _session.GetInt32("count", -1).Should().Be(-1);
    }

    private static IEnumerable<object?> NonIntegralSources() => [true, 0.5, 1.5f, long.MaxValue, new List<int>(), null];

    [TestCaseSource(nameof(NonIntegralSources))]
    public void GetInt32_OnBooleansFractionsOutOfRangeAndObjects_ThrowsAConversionException(object? stored)
    {
        _session.Set("k", stored);

        _session.Invoking(s => s.GetInt32("k")).Should().Throw<SessionValueConversionException>();
        _session.TryGet<int>("k", out _).Should().BeFalse();
        _session.Get("k", 7).Should().Be(7);
    }

    [Test]
    public void MissingKey_ThrowsSessionKeyNotFoundException_FromEveryTypedGetter_AndTheDefaultOverloadsReturnTheDefault()
    {
        var getters = new Action[]
        {
            () => _session.GetInt32("missing"), () => _session.GetInt64("missing"), () => _session.GetSingle("missing"),
            () => _session.GetDouble("missing"), () => _session.GetBoolean("missing"), () => _session.GetString("missing"),
            () => _session.Get<int>("missing"),
        };
        foreach (var getter in getters)
            getter.Should().Throw<SessionKeyNotFoundException>().Where(e => e.Key == "missing").WithMessage("*'missing'*");

        _session.GetInt32("missing", 1).Should().Be(1);
        _session.GetInt64("missing", 2).Should().Be(2);
        _session.GetSingle("missing", 3f).Should().Be(3f);
        _session.GetDouble("missing", 4d).Should().Be(4d);
        _session.GetBoolean("missing", true).Should().BeTrue();
        _session.GetString("missing", "d").Should().Be("d");
        _session.Get("missing", "fallback").Should().Be("fallback");
        _session.TryGet<string>("missing", out _).Should().BeFalse();
    }

    [Test]
    public void GetInt64_AcceptsLongIntAndDecimalText_AndRejectsTextBeyondItsRange()
    {
        _session.Set("big", long.MaxValue);
        _session.Set("int", 7);
        _session.Set("text", "-9000000000");
        _session.Set("huge", "9223372036854775808");

        _session.GetInt64("big").Should().Be(long.MaxValue);
        _session.GetInt64("int").Should().Be(7);
        _session.GetInt64("text").Should().Be(-9_000_000_000);
        _session.Invoking(s => s.GetInt64("huge")).Should().Throw<SessionValueConversionException>();
    }

    [Test]
    public void GetSingle_AcceptsFloatDoubleIntAndText_AndThrowsOnBadText()
    {
        _session.Set("f", 0.5f);
        _session.Set("d", 0.25);
        _session.Set("i", 3);
        _session.Set("s", "1.5");
        _session.Set("bad", "one");

        _session.GetSingle("f").Should().Be(0.5f);
        _session.GetSingle("d").Should().Be(0.25f);
        _session.GetSingle("i").Should().Be(3f);
        _session.GetSingle("s").Should().Be(1.5f);
        _session.Invoking(s => s.GetSingle("bad")).Should().Throw<SessionValueConversionException>();
        _session.GetSingle("bad", -1f).Should().Be(-1f);
    }

    [Test]
    public void GetDouble_ParsesText0Point1AsExactly0Point1_Not32Bit_FixedDefect()
    {
        _session.Set("s", "0.1");
        _session.Set("f", 0.1f);

        _session.GetDouble("s").Should().Be(0.1);
        _session.GetDouble("f").Should().Be(0.1, "a float widens through its shortest text");
    }

    [Test]
    public void GetDouble_AcceptsLongAndOtherNumbers_UnlikeGoSessionsWhichRejectedInt64_FixedDefect()
    {
        _session.Set("long", 5_000_000_000L);
        _session.Set("int", 2);
        _session.Set("decimal", 2.5m);
        _session.Set("bad", "x");

        _session.GetDouble("long").Should().Be(5e9);
        _session.GetDouble("int").Should().Be(2.0);
        _session.GetDouble("decimal").Should().Be(2.5);
        _session.Invoking(s => s.GetDouble("bad")).Should().Throw<SessionValueConversionException>();
        _session.GetDouble("bad", 0.0).Should().Be(0.0);
    }

    [TestCase("1")]
    [TestCase("t")]
    [TestCase("T")]
    [TestCase("TRUE")]
    [TestCase("true")]
    [TestCase("True")]
    public void GetBoolean_ReadsTheTrueSpellings(string stored)
    {
        _session.Set("k", stored);
        _session.GetBoolean("k").Should().BeTrue();
    }

    [TestCase("0")]
    [TestCase("f")]
    [TestCase("F")]
    [TestCase("FALSE")]
    [TestCase("false")]
    [TestCase("False")]
    public void GetBoolean_ReadsTheFalseSpellings(string stored)
    {
        _session.Set("k", stored);
        _session.GetBoolean("k", true).Should().BeFalse();
    }

    [Test]
    public void GetBoolean_ReadsBooleans_AndRejectsIntegersAndOtherText()
    {
        _session.Set("b", true);
        _session.Set("int", 1);
        _session.Set("yes", "yes");

        _session.GetBoolean("b").Should().BeTrue();
        _session.Invoking(s => s.GetBoolean("int")).Should().Throw<SessionValueConversionException>();
        _session.Invoking(s => s.GetBoolean("yes")).Should().Throw<SessionValueConversionException>();
        _session.GetBoolean("int", true).Should().BeTrue();
    }

    [Test]
    public void GetString_ReturnsTextAsIs_NumbersAndBooleansAsInvariantText_OurTolerantBehaviour()
    {
        _session.Set("s", "iris");
        _session.Set("i", 42);
        _session.Set("l", 42L);
        _session.Set("d", 0.5);
        _session.Set("f", 0.1f);
        _session.Set("b", true);
        _session.Set("c", 'x');

        _session.GetString("s").Should().Be("iris");
        _session.GetString("i").Should().Be("42");
        _session.GetString("l").Should().Be("42");
        _session.GetString("d").Should().Be("0.5");
        _session.GetString("f").Should().Be("0.1");
        _session.GetString("b").Should().Be("true");
        _session.GetString("c").Should().Be("x");
    }

    [Test]
    public void GetString_RejectsObjects_AndTheDefaultOverloadReplacesEmptyText()
    {
        _session.Set("list", new List<string> { "a" });
        _session.Set("empty", "");

        _session.Invoking(s => s.GetString("list")).Should().Throw<SessionValueConversionException>();
        _session.GetString("empty").Should().BeEmpty();
        _session.GetString("empty", "default").Should().Be("default");
        _session.GetString("list", "default").Should().Be("default");
    }

    [Test]
    public void GetString_UsesTheInvariantCulture_WhateverTheCurrentCulture()
    {
        var previous = Thread.CurrentThread.CurrentCulture;
        Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            _session.Set("d", 1.5);
            _session.Set("s", "2.5");
            _session.GetString("d").Should().Be("1.5");
            _session.GetDouble("s").Should().Be(2.5);
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = previous;
        }
    }

    [Test]
    public void GenericGet_ConvertsEnumsAndReturnsTheSameObjectForItsOwnType()
    {
        var list = new List<int> { 1 };
        _session.Set("list", list);
        _session.Set("day", "Friday");
        _session.Set("dayNumber", 5L);

        _session.Get<List<int>>("list").Should().BeSameAs(list);
        _session.Get<DayOfWeek>("day").Should().Be(DayOfWeek.Friday);
        _session.Get<DayOfWeek>("dayNumber").Should().Be(DayOfWeek.Friday);
        _session.Get<int?>("dayNumber").Should().Be(5);
        _session.Invoking(s => s.Get<Uri>("list")).Should().Throw<SessionValueConversionException>();
    }

    [Test]
    public void GenericGet_ReadsJsonElementsAsSerialisingDatabasesReturnThem()
    {
        _session.Set("obj", JsonDocument.Parse("""{"Name":"Edward","Tags":["a"]}""").RootElement.Clone());
        _session.Set("flag", JsonDocument.Parse("true").RootElement.Clone());
        _session.Set("text", JsonDocument.Parse("\"7\"").RootElement.Clone());

        _session.Get<ImmutableTests.BusinessModel>("obj").Name.Should().Be("Edward");
        _session.GetBoolean("flag").Should().BeTrue();
        _session.GetInt32("text").Should().Be(7);
        _session.GetString("text").Should().Be("7");
    }

    [Test]
    public void ExceptionMessages_NameTheKey_AndNeverTheSessionId()
    {
        var request = new TestCarrier();
        var session = _manager.Start(request);
        session.Set("k", "abc");

        var conversion = session.Invoking(s => s.GetInt32("k")).Should().Throw<SessionValueConversionException>().Which;
        var missing = session.Invoking(s => s.GetInt32("nope")).Should().Throw<SessionKeyNotFoundException>().Which;

        conversion.Message.Should().NotContain(session.Id);
        missing.Message.Should().NotContain(session.Id);
    }

    [Test]
    public void Increment_OnAMissingKey_StoresAndReturnsN_ThenAddsToIt()
    {
        _session.Increment("c", 2).Should().Be(2);
        _session.Increment("c", 3).Should().Be(5);
        _session.Increment("c").Should().Be(6);
        _session.Get("c").Should().Be(6L, "counters are 64-bit");
    }

    [Test]
    public void Increment_OnIntegralText_AddsToItAndStoresALong()
    {
        _session.Set("c", "42");

        _session.Increment("c", 1).Should().Be(43);

        _session.Get("c").Should().BeOfType<long>().And.Be(43L);
    }

    [Test]
    public void Increment_OnALongValue_AddsToIt_RatherThanResetting_OurTolerantBehaviour()
    {
        _session.Set("c", 10L);

        _session.Increment("c", 5).Should().Be(15);
    }

    [Test]
    public void Increment_OnANonNumber_StartsFromZero()
    {
        _session.Set("c", "abc");

        _session.Increment("c", 4).Should().Be(4);
    }

    [Test]
    public void Decrement_CanGoNegative()
    {
        _session.Decrement("c", 3).Should().Be(-3);
        _session.Decrement("c").Should().Be(-4);
        _session.Increment("c", -1).Should().Be(-5);
    }

    [Test]
    public void Increment_PersistsAcrossRequests()
    {
        var request = new TestCarrier();
        _manager.Start(request).Increment("visits");
        var next = request.NextRequest();
        _manager.Start(next).Increment("visits").Should().Be(2);
        _manager.Start(next.NextRequest()).GetInt32("visits").Should().Be(2);
    }
}
