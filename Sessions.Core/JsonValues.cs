using System.Text.Json;

namespace Sessions;

/// <summary>
/// Reads JSON into plain values without any type information from the data: strings, <see cref="long"/> for integers,
/// <see cref="double"/> for other numbers, booleans, <see langword="null"/>, and <see cref="JsonElement"/> for objects and arrays.
/// Databases that serialise use it so typed getters answer the same as on the memory database.
/// </summary>
public static class JsonValues
{
    /// <summary>Reads one JSON value.</summary>
    /// <exception cref="JsonException">The input is not valid JSON.</exception>
    public static object? Read(ReadOnlySpan<byte> utf8Json)
    {
        // Scalars, by far the most common session values, are read straight off the reader; only objects and arrays
        // need a document.
        var reader = new Utf8JsonReader(utf8Json);
        if (!reader.Read())
            throw new JsonException("The value is empty.");
        object? value;
        switch (reader.TokenType)
        {
            case JsonTokenType.String: value = reader.GetString(); break;
            case JsonTokenType.Number: value = reader.TryGetInt64(out var integer) ? integer : (object)reader.GetDouble(); break;
            case JsonTokenType.True: value = true; break;
            case JsonTokenType.False: value = false; break;
            case JsonTokenType.Null: value = null; break;
            default:
                using (var document = JsonDocument.ParseValue(ref reader))
                    value = document.RootElement.Clone();
                break;
        }
        if (reader.Read())
            throw new JsonException("The value is followed by more JSON.");
        return value;
    }

    /// <summary>Turns a JSON element into a plain value (objects and arrays stay <see cref="JsonElement"/>, cloned so they outlive their document).</summary>
    public static object? FromElement(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.TryGetInt64(out var integer) ? integer : (object)element.GetDouble(), // boxed apart: a ternary of long and double would be double
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => element.Clone(),
    };
}
