using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentTheater.Web.OpenAi;

/// <summary>Reads OpenAI's "a string or an array of strings" fields (<c>stop</c>, <c>prompt</c>) as a list.</summary>
internal sealed class StringOrStringsJsonConverter : JsonConverter<IReadOnlyList<string>>
{
    /// <inheritdoc />
    public override IReadOnlyList<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return [reader.GetString()!];
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new WireFormatException("expected a string or an array of strings.");
        }

        var values = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            values.Add(reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new WireFormatException("expected a string or an array of strings."));
        }

        return values;
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartArray();
        foreach (var item in value)
        {
            writer.WriteStringValue(item);
        }

        writer.WriteEndArray();
    }
}

/// <summary>Reads a message's <c>content</c>: a string or an array of content parts.</summary>
/// <remarks>
/// The parts are read here rather than by a nested deserialisation, whose errors would name the field from the array
/// (<c>[0].text</c>) instead of from the body (<c>messages[0].content[0].text</c>).
/// </remarks>
internal sealed class MessageContentJsonConverter : JsonConverter<MessageContent>
{
    /// <inheritdoc />
    public override MessageContent Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => new MessageContent { Text = reader.GetString() },
        JsonTokenType.StartArray => new MessageContent { Parts = ReadParts(ref reader) },
        _ => throw new WireFormatException("expected a string or an array of content parts."),
    };

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, MessageContent value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        if (value.Parts is not { } parts)
        {
            writer.WriteStringValue(value.Text);
            return;
        }

        writer.WriteStartArray();
        foreach (var part in parts)
        {
            writer.WriteStartObject();
            writer.WriteString("type", part.Type);
            writer.WriteString("text", part.Text);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static List<ContentPart> ReadParts(ref Utf8JsonReader reader)
    {
        var parts = new List<ContentPart>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var index = parts.Count;
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new WireFormatException("expected a content part object.", $"[{index}]");
            }

            string? type = null;
            string? text = null;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "type":
                        type = StringOf(ref reader, $"[{index}].type");
                        break;
                    case "text":
                        text = StringOf(ref reader, $"[{index}].text");
                        break;
                    default:
                        // Other members belong to parts this endpoint refuses by their type (image_url, input_audio).
                        reader.Skip();
                        break;
                }
            }

            parts.Add(new ContentPart { Type = type, Text = text });
        }

        return parts;
    }

    private static string? StringOf(ref Utf8JsonReader reader, string subPath) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Null => null,
        _ => throw new WireFormatException("expected a string.", subPath),
    };
}

/// <summary>A value of the wrong shape, refused by the converters above with a message for people.</summary>
/// <param name="message">What was expected.</param>
/// <param name="subPath">Where, below the property the converter reads (<c>[0].text</c>); empty for the property itself.</param>
internal sealed class WireFormatException(string message, string subPath = "") : JsonException(message)
{
    /// <summary>Where the wrong value is, below the property the converter reads.</summary>
    public string SubPath { get; } = subPath;
}
