using System.Security.Cryptography;
using System.Text;

namespace AgentTheater.Inference.Engine;

/// <summary>
/// The disk tier of the pool's KV cache: sessions the host tier has no room for are written to files in one folder,
/// within their own byte budget (oldest written dropped first), and read back when the session returns. Each file
/// holds the session key, its tokens and its state, and a SHA-256 of all of it: a file that does not check out is
/// deleted and its session prefilled again, never trusted. Used on the scheduler thread only.
/// </summary>
internal sealed class DiskKvTier
{
    private static readonly byte[] Magic = "ATKV0001"u8.ToArray();
    private readonly Dictionary<string, (string Path, long Bytes, long Written)> _files = new(StringComparer.Ordinal);
    private long _bytes;
    private long _clock;

    /// <summary>Creates the folder and checks that it can be written.</summary>
    /// <exception cref="InvalidOperationException">The folder cannot be created or written; the message names the setting and the folder.</exception>
    public DiskKvTier(string directory, long budgetBytes)
    {
        Directory = Path.GetFullPath(directory);
        BudgetBytes = budgetBytes;
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            var probe = Path.Combine(Directory, $".probe-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, [1]);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new InvalidOperationException($"{InferencePoolOptions.SectionName}:{nameof(InferencePoolOptions.DiskKvDirectory)} '{directory}' cannot be written: {e.Message}", e);
        }
    }

    /// <summary>The spill folder.</summary>
    public string Directory { get; }

    /// <summary>The budget in bytes.</summary>
    public long BudgetBytes { get; }

    /// <summary>Bytes of spill files written and not yet dropped.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Writes <paramref name="session"/>'s state; false when it alone is larger than the budget or the write failed.</summary>
    public bool Save(string session, byte[] state, int[] tokens)
    {
        Remove(session);
        var content = Serialize(session, state, tokens);
        if (content.Length > BudgetBytes)
        {
            return false;
        }

        while (_bytes + content.Length > BudgetBytes && _files.Count > 0)
        {
            Remove(_files.MinBy(f => f.Value.Written).Key);
        }

        var path = Path.Combine(Directory, FileName(session));
        try
        {
            File.WriteAllBytes(path, content);
        }
        catch (IOException)
        {
            return false;
        }

        _files[session] = (path, content.Length, ++_clock);
        Interlocked.Add(ref _bytes, content.Length);
        return true;
    }

    /// <summary>
    /// Reads <paramref name="session"/>'s state back and forgets the file; null when there is none. A file that is
    /// missing, cut short or does not check out is deleted and named in <paramref name="corrupted"/>.
    /// </summary>
    public SavedSequence? Take(string session, out string? corrupted)
    {
        corrupted = null;
        if (!_files.TryGetValue(session, out var file))
        {
            return null;
        }

        SavedSequence? saved = null;
        try
        {
            saved = Deserialize(session, File.ReadAllBytes(file.Path));
        }
        catch (IOException)
        {
            // Gone or unreadable: as good as corrupted.
        }

        corrupted = saved is null ? file.Path : null;
        Remove(session);
        return saved;
    }

    /// <summary>Deletes <paramref name="session"/>'s file, if any.</summary>
    public void Remove(string session)
    {
        if (!_files.Remove(session, out var file))
        {
            return;
        }

        Interlocked.Add(ref _bytes, -file.Bytes);
        try
        {
            File.Delete(file.Path);
        }
        catch (IOException)
        {
            // Best effort: the budget no longer counts it.
        }
    }

    private static string FileName(string session) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(session)))[..32] + ".kv";

    private static byte[] Serialize(string session, byte[] state, int[] tokens)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(session);
            writer.Write(tokens.Length);
            foreach (var token in tokens)
            {
                writer.Write(token);
            }

            writer.Write(state.Length);
            writer.Write(state);
        }

        var body = stream.ToArray();
        return [.. body, .. SHA256.HashData(body)];
    }

    private static SavedSequence? Deserialize(string session, byte[] content)
    {
        const int HashLength = 32;
        if (content.Length < Magic.Length + HashLength)
        {
            return null;
        }

        var body = content.AsSpan(0, content.Length - HashLength);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(content.AsSpan(content.Length - HashLength)))
        {
            return null;
        }

        using var reader = new BinaryReader(new MemoryStream(content, 0, body.Length), Encoding.UTF8);
        if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic) || reader.ReadString() != session)
        {
            return null;
        }

        var tokens = new int[reader.ReadInt32()];
        for (var i = 0; i < tokens.Length; i++)
        {
            tokens[i] = reader.ReadInt32();
        }

        return new SavedSequence(reader.ReadBytes(reader.ReadInt32()), tokens, 0);
    }
}
