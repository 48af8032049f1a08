using AgentTheater.Inference.Gguf;

namespace AgentTheater.Inference.Tests;

public sealed class GgufFileTests
{
    [Fact]
    public void Read_WrittenFile_RoundTripsMetadataAndTensors()
    {
        var path = TempFile();
        var values = Enumerable.Range(0, 64).Select(i => i / 10f).ToArray();
        new GgufWriter()
            .Add("general.architecture", "llama")
            .Add("llama.block_count", 3u)
            .Add("tokenizer.ggml.tokens", ["a", "b"])
            .AddTensor("t.f32", [32, 2], GgmlType.F32, values)
            .AddTensor("t.q8", [64], GgmlType.Q8_0, values)
            .WriteTo(path);

        var file = GgufFile.Read(path);

        Assert.Equal("llama", file.Architecture);
        Assert.Equal(3, file.GetArchInteger("block_count"));
        Assert.Equal(["a", "b"], (object[])file.Metadata["tokenizer.ggml.tokens"]);
        Assert.Equal(["t.f32", "t.q8"], file.Tensors.Select(t => t.Name));
        Assert.Equal(0, file.Tensors[0].Offset % GgufWriter.Alignment);
        Assert.Equal(0, file.Tensors[1].Offset % GgufWriter.Alignment);
    }

    [Fact]
    public void Read_TruncatedFile_NamesFileAndTensor()
    {
        var path = TempFile();
        new GgufWriter().Add("general.architecture", "llama")
            .AddTensor("big", [1024], GgmlType.F32, new float[1024]).WriteTo(path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);

        var error = Assert.Throws<GgufFormatException>(() => GgufFile.Read(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("'big'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NotGguf_SaysSo()
    {
        var path = TempFile();
        File.WriteAllText(path, "this is a text file, not a model at all");

        var error = Assert.Throws<GgufFormatException>(() => GgufFile.Read(path));

        Assert.Contains("not a GGUF file", error.Message, StringComparison.Ordinal);
    }

    private static string TempFile() => Path.Combine(Path.GetTempPath(), $"gguf-{Guid.NewGuid():N}.gguf");
}
