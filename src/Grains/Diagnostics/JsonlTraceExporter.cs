using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OpenTelemetry;

namespace AgentTheater.Grains.Diagnostics;

/// <summary>
/// Appends every finished span to a file as one JSON object a line: <c>traceId</c>, <c>spanId</c>, <c>parentId</c>,
/// <c>name</c>, <c>source</c>, <c>kind</c>, <c>start</c>, <c>durationMs</c>, <c>status</c>, <c>attributes</c>,
/// <c>events</c>. Each batch is written whole and flushed to the operating system before the next, so a crash
/// loses at most the spans not yet exported, never a line already written; shutdown exports what is left.
/// </summary>
public sealed class JsonlTraceExporter : BaseExporter<Activity>
{
    private readonly FileStream _file;
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly Lock _lock = new();

    /// <summary>Opens (appends to) <paramref name="path"/>, creating its folder.</summary>
    public JsonlTraceExporter(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        Path = full;
        _file = new FileStream(full, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
    }

    /// <summary>The file written.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public override ExportResult Export(in Batch<Activity> batch)
    {
        lock (_lock)
        {
            try
            {
                _buffer.ResetWrittenCount();
                using (var writer = new Utf8JsonWriter(_buffer))
                {
                    foreach (var activity in batch)
                    {
                        WriteSpan(writer, activity);
                        writer.Flush();
                        writer.Reset();
                        _buffer.Write("\n"u8);
                    }
                }

                _file.Write(_buffer.WrittenSpan);
                _file.Flush();
                return ExportResult.Success;
            }
            catch (IOException)
            {
                return ExportResult.Failure;
            }
        }
    }

    /// <inheritdoc />
    protected override bool OnShutdown(int timeoutMilliseconds)
    {
        lock (_lock)
        {
            _file.Flush(flushToDisk: true);
        }

        return true;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_lock)
            {
                _file.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private static void WriteSpan(Utf8JsonWriter writer, Activity activity)
    {
        writer.WriteStartObject();
        writer.WriteString("traceId", activity.TraceId.ToHexString());
        writer.WriteString("spanId", activity.SpanId.ToHexString());
        if (activity.ParentSpanId != default)
        {
            writer.WriteString("parentId", activity.ParentSpanId.ToHexString());
        }
        else
        {
            writer.WriteNull("parentId");
        }

        writer.WriteString("name", activity.DisplayName);
        writer.WriteString("source", activity.Source.Name);
        writer.WriteString("kind", activity.Kind.ToString().ToLowerInvariant());
        writer.WriteString("start", activity.StartTimeUtc.ToString("O", CultureInfo.InvariantCulture));
        writer.WriteNumber("durationMs", Math.Round(activity.Duration.TotalMilliseconds, 3));
        writer.WriteString("status", activity.Status.ToString().ToLowerInvariant());
        if (activity.StatusDescription is { } description)
        {
            writer.WriteString("statusDescription", description);
        }

        writer.WriteStartObject("attributes");
        foreach (var (key, value) in activity.TagObjects)
        {
            WriteValue(writer, key, value);
        }

        writer.WriteEndObject();
        writer.WriteStartArray("events");
        foreach (var e in activity.Events)
        {
            writer.WriteStartObject();
            writer.WriteString("name", e.Name);
            writer.WriteString("time", e.Timestamp.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            writer.WriteStartObject("attributes");
            foreach (var (key, value) in e.Tags)
            {
                WriteValue(writer, key, value);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, string key, object? value)
    {
        writer.WritePropertyName(key);
        WriteValue(writer, value);
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case int i:
                writer.WriteNumberValue(i);
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case double d when double.IsFinite(d):
                writer.WriteNumberValue(d);
                break;
            case float f when float.IsFinite(f):
                writer.WriteNumberValue(f);
                break;
            case System.Collections.IEnumerable items:
                writer.WriteStartArray();
                foreach (var item in items)
                {
                    WriteValue(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}
