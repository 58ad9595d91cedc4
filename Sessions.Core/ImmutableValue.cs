using System.Text.Json;

namespace Sessions;

/// <summary>
/// A deep snapshot of a value stored with <see cref="Session.SetImmutable"/>: its JSON, taken when it was stored, so
/// neither the caller's object nor any object a later read returns can change it. Every read materialises a new copy.
/// </summary>
/// <remarks>The CLR type is remembered only in the process that stored the value; it is never read from stored data.</remarks>
public sealed class ImmutableValue
{
    /// <summary>Wraps a JSON snapshot.</summary>
    /// <param name="json">The UTF-8 JSON of the value.</param>
    /// <param name="type">The type to materialise, when known in this process; otherwise reads give JSON values.</param>
    public ImmutableValue(byte[] json, Type? type)
        : this(json, type, null)
    {
    }

    /// <summary>Wraps a JSON snapshot taken with <paramref name="options"/>, which reads use too.</summary>
    internal ImmutableValue(byte[] json, Type? type, JsonSerializerOptions? options)
    {
        Json = json ?? throw new ArgumentNullException(nameof(json));
        Type = type;
        Options = options;
    }

    /// <summary>The UTF-8 JSON of the value.</summary>
    public byte[] Json { get; }

    /// <summary>The type the value was stored as, when it was stored in this process.</summary>
    public Type? Type { get; }

    /// <summary>The serialiser options the snapshot was taken with (<see cref="SessionConfig.SerializerOptions"/>), used to materialise it.</summary>
    internal JsonSerializerOptions? Options { get; }

    /// <summary>Takes a snapshot of <paramref name="value"/>. Immutable primitives (strings, numbers, dates, GUIDs, enums) are kept as they are.</summary>
    /// <exception cref="ArgumentException">The value cannot be serialised to JSON.</exception>
    public static object? Snapshot(string key, object? value) => Snapshot(key, value, null);

    /// <summary>Takes a snapshot of <paramref name="value"/> with <paramref name="options"/>.</summary>
    internal static object? Snapshot(string key, object? value, JsonSerializerOptions? options)
    {
        if (IsImmutableType(value))
            return value;
        try
        {
            return new ImmutableValue(JsonSerializer.SerializeToUtf8Bytes(value, value!.GetType(), options), value.GetType(), options);
        }
        catch (Exception e) when (e is NotSupportedException or JsonException or InvalidOperationException)
        {
            throw new ArgumentException($"The value for session key '{key}' of type {value!.GetType()} cannot be stored immutably: it must round-trip through System.Text.Json ({e.Message}).", nameof(value), e);
        }
    }

    /// <summary>A new, independent copy of the value.</summary>
    public object? Materialize() => Type is null
        ? JsonValues.Read(Json)
        : JsonSerializer.Deserialize(Json, Type, Options);

    /// <summary>A new, independent copy of the value as <typeparamref name="T"/>.</summary>
    public T? Materialize<T>() => JsonSerializer.Deserialize<T>(Json, Options);

    internal static bool IsImmutableType(object? value) => value is null or string or bool or char or byte or sbyte or short or ushort
        or int or uint or long or ulong or float or double or decimal or DateTime or DateTimeOffset or TimeSpan or Guid or Enum;
}
