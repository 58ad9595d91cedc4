using System.Text.Json;

namespace Sessions;

/// <summary>
/// The stored form of one value or flash for databases that serialise: a marker byte (<c>v</c> plain, <c>i</c> immutable)
/// followed by the value's JSON. Reading never uses type information from the data: JSON comes back as the plain values
/// of <see cref="JsonValues"/>, and an immutable object as an <see cref="ImmutableValue"/> snapshot, so typed getters and
/// immutability behave as on the memory database.
/// </summary>
public static class SessionValueCodec
{
    private const byte Plain = (byte)'v';
    private const byte Immutable = (byte)'i';

    /// <summary>Serialises one value with System.Text.Json's defaults.</summary>
    /// <exception cref="ArgumentException">The value cannot be serialised to JSON.</exception>
    public static byte[] Encode(string key, SessionValue value) => Encode(key, value, null);

    /// <summary>Serialises one value with <paramref name="options"/> (<see cref="SessionChanges.SerializerOptions"/>).</summary>
    /// <exception cref="ArgumentException">The value cannot be serialised to JSON.</exception>
    public static byte[] Encode(string key, SessionValue value, JsonSerializerOptions? options)
    {
        byte[] json;
        try
        {
            json = value.Value is ImmutableValue snapshot ? snapshot.Json : ToJson(value.Value, options);
        }
        catch (Exception e) when (e is NotSupportedException or JsonException or InvalidOperationException)
        {
            throw new ArgumentException($"The value for session key '{key}' of type {value.Value?.GetType()} cannot be stored: this database serialises values with System.Text.Json ({e.Message}).", nameof(value), e);
        }
        var bytes = new byte[json.Length + 1];
        bytes[0] = value.IsImmutable ? Immutable : Plain;
        Buffer.BlockCopy(json, 0, bytes, 1, json.Length);
        return bytes;
    }

    /// <summary>A value as UTF-8 JSON, by its runtime type (the one reflection-based serialisation of values).</summary>
    internal static byte[] ToJson(object? value, JsonSerializerOptions? options) =>
        value is JsonElement element ? JsonSerializer.SerializeToUtf8Bytes(element)
            : JsonSerializer.SerializeToUtf8Bytes(value, value?.GetType() ?? typeof(object), options);

    /// <summary>
    /// What one stored value or flash counts toward <see cref="SessionChanges.MaxPayloadBytes"/>: the UTF-8 bytes of its key
    /// plus its encoded bytes. A session's payload is the sum over its values and flashes; every database counts it so.
    /// </summary>
    public static long PayloadSize(string key, byte[] encoded) =>
        System.Text.Encoding.UTF8.GetByteCount(key ?? throw new ArgumentNullException(nameof(key))) + (long)(encoded ?? throw new ArgumentNullException(nameof(encoded))).Length;

    /// <summary>Serialises a flash value.</summary>
    public static byte[] EncodeFlash(string key, object? value) => Encode(key, new SessionValue(value, false), null);

    /// <summary>Serialises a flash value with <paramref name="options"/> (<see cref="SessionChanges.SerializerOptions"/>).</summary>
    public static byte[] EncodeFlash(string key, object? value, JsonSerializerOptions? options) => Encode(key, new SessionValue(value, false), options);

    /// <summary>Reads one value; <see langword="false"/> when the bytes are not a value this codec wrote (corrupt or foreign data).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, out SessionValue value)
    {
        value = default;
        if (bytes.Length < 2 || (bytes[0] != Plain && bytes[0] != Immutable))
            return false;
        try
        {
            var json = bytes.Slice(1);
            var plain = JsonValues.Read(json);
            value = bytes[0] == Plain || ImmutableValue.IsImmutableType(plain)
                ? new SessionValue(plain, bytes[0] == Immutable)
                : new SessionValue(new ImmutableValue(json.ToArray(), null), true);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
