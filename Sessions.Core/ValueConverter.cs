using System.Globalization;
using System.Text.Json;

namespace Sessions;

/// <summary>
/// The tolerant conversions behind the typed getters. They depend only on the value, never on the database, so an
/// <see cref="int"/> written with <c>Set</c> reads back with <c>GetInt32</c> whether it stayed an <see cref="int"/>
/// (memory) or came back from JSON as a <see cref="long"/> (Redis, the embedded store).
/// </summary>
internal static class ValueConverter
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static bool TryToInt64(object? value, out long result)
    {
        switch (value)
        {
            case int v: result = v; return true;
            case long v: result = v; return true;
            case short v: result = v; return true;
            case byte v: result = v; return true;
            case sbyte v: result = v; return true;
            case ushort v: result = v; return true;
            case uint v: result = v; return true;
            case ulong v when v <= long.MaxValue: result = (long)v; return true;
            case double v when IsIntegral(v) && v >= long.MinValue && v < 9.2233720368547758E18: result = (long)v; return true;
            case float v when IsIntegral(v) && v >= long.MinValue && v < 9.2233720368547758E18f: result = (long)v; return true;
            case decimal v when v == decimal.Truncate(v) && v >= long.MinValue && v <= long.MaxValue: result = (long)v; return true;
            case string s: return long.TryParse(s, NumberStyles.AllowLeadingSign, Invariant, out result);
            case JsonElement e: return TryToInt64(JsonValues.FromElement(e), out result);
            // An enum reads as its number, as it does after a JSON round trip through a serialising database.
            case Enum e when Type.GetTypeCode(Enum.GetUnderlyingType(e.GetType())) != TypeCode.UInt64: result = Convert.ToInt64(e, Invariant); return true;
            default: result = 0; return false;
        }
    }

    public static bool TryToInt32(object? value, out int result)
    {
        if (TryToInt64(value, out var wide) && wide >= int.MinValue && wide <= int.MaxValue)
        {
            result = (int)wide;
            return true;
        }
        result = 0;
        return false;
    }

    public static bool TryToDouble(object? value, out double result)
    {
        switch (value)
        {
            case double v: result = v; return true;
            // float widens through its shortest text, so 0.1f reads as 0.1 and not 0.10000000149011612.
            case float v: result = double.Parse(v.ToString("R", Invariant), Invariant); return true;
            case decimal v: result = (double)v; return true;
            case string s: return double.TryParse(s, NumberStyles.Float, Invariant, out result);
            case JsonElement e: return TryToDouble(JsonValues.FromElement(e), out result);
            default:
                if (TryToInt64(value, out var integer) || value is ulong)
                {
                    result = value is ulong u ? u : integer;
                    return true;
                }
                result = 0;
                return false;
        }
    }

    public static bool TryToSingle(object? value, out float result)
    {
        switch (value)
        {
            case float v: result = v; return true;
            case string s: return float.TryParse(s, NumberStyles.Float, Invariant, out result);
            default:
                if (TryToDouble(value, out var wide))
                {
                    result = (float)wide;
                    return true;
                }
                result = 0;
                return false;
        }
    }

    public static bool TryToBoolean(object? value, out bool result)
    {
        switch (value)
        {
            case bool v: result = v; return true;
            case string s:
                switch (s)
                {
                    case "1" or "t" or "T" or "TRUE" or "true" or "True": result = true; return true;
                    case "0" or "f" or "F" or "FALSE" or "false" or "False": result = false; return true;
                    default: result = false; return false;
                }
            case JsonElement e: return TryToBoolean(JsonValues.FromElement(e), out result);
            default: result = false; return false;
        }
    }

    public static bool TryToString(object? value, out string result)
    {
        switch (value)
        {
            case string s: result = s; return true;
            case char c: result = c.ToString(); return true;
            case bool b: result = b ? "true" : "false"; return true;
            case double d: result = d.ToString("R", Invariant); return true;
            case float f: result = f.ToString("R", Invariant); return true;
            case IFormattable f when IsNumber(value): result = f.ToString(null, Invariant); return true;
            case JsonElement e when e.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array):
                return TryToString(JsonValues.FromElement(e), out result);
            default: result = string.Empty; return false;
        }
    }

    /// <summary>Converts for <c>Get&lt;T&gt;</c>: the value itself when it is a <typeparamref name="T"/>, a numeric, boolean or string conversion, or JSON deserialisation of a JSON value.</summary>
    public static bool TryConvert<T>(object? value, out T result, JsonSerializerOptions? options = null)
    {
        if (value is T same)
        {
            result = same;
            return true;
        }
        if (value is null && default(T) is null)
        {
            result = default!; // a stored null reads as null for any reference or nullable type
            return true;
        }
        var target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        object? converted = null;
        var ok = target == typeof(int) ? Box(TryToInt32(value, out var i), i, ref converted)
            : target == typeof(long) ? Box(TryToInt64(value, out var l), l, ref converted)
            : target == typeof(double) ? Box(TryToDouble(value, out var d), d, ref converted)
            : target == typeof(float) ? Box(TryToSingle(value, out var f), f, ref converted)
            : target == typeof(bool) ? Box(TryToBoolean(value, out var b), b, ref converted)
            : target == typeof(string) ? Box(TryToString(value, out var s), s, ref converted)
            : TryDeserialize(value, target, options, ref converted);
        result = ok ? (T)converted! : default!;
        return ok && (converted is not null || default(T) is null);
    }

    private static bool TryDeserialize(object? value, Type target, JsonSerializerOptions? options, ref object? converted)
    {
        try
        {
            switch (value)
            {
                case JsonElement e:
                    converted = e.Deserialize(target, options);
                    return true;
                case string s when target.IsEnum:
                    converted = Enum.Parse(target, s, ignoreCase: false);
                    return true;
                // A serialising database stores DateTimeOffset, Guid, TimeSpan... as JSON strings; read them as the memory database does.
                case string s:
                    converted = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(s), target, options);
                    return true;
                case long or int when target.IsEnum:
                    converted = Enum.ToObject(target, value);
                    return true;
                case ImmutableValue immutable:
                    converted = JsonSerializer.Deserialize(immutable.Json, target, immutable.Options ?? options);
                    return true;
                default:
                    return false;
            }
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static bool Box<TValue>(bool ok, TValue value, ref object? converted)
    {
        if (ok)
            converted = value;
        return ok;
    }

    private static bool IsNumber(object value) => value is int or long or short or byte or sbyte or ushort or uint or ulong or decimal;

    private static bool IsIntegral(double value) => !double.IsInfinity(value) && !double.IsNaN(value) && Math.Floor(value) == value;
}
