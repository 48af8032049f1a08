using AgentTheater.Inference.Engine;
using AgentTheater.Inference.Gguf;

namespace AgentTheater.Inference.Tests;

public sealed class ModelFileTests(TinyModelFixture fixture)
{
    [Fact]
    public void Check_TinyModel_PassesAndReturnsItsHeader()
    {
        var header = ModelFile.Check(fixture.ModelPath);

        Assert.Equal("llama", header.Architecture);
        Assert.Equal(fixture.ModelPath, header.Path);
        Assert.Equal(SyntheticModel.TensorNames(SyntheticModelShape.Tiny), header.Tensors.Select(t => t.Name));
        Assert.Equal(0, header.DataOffset % header.Alignment);
    }

    [Fact]
    public void Check_MissingFile_IsNotFoundNamingTheFile()
    {
        var missing = Path.Combine(fixture.Directory, $"missing-{Guid.NewGuid():N}.gguf");

        var error = Assert.Throws<ModelFileException>(() => ModelFile.Check(missing));

        Assert.Equal(ModelFileProblem.NotFound, error.Kind);
        Assert.Equal($"{missing}: model file not found.", error.Message);
    }

    [Fact]
    public void Check_Folder_IsUnreadable()
    {
        var error = Assert.Throws<ModelFileException>(() => ModelFile.Check(fixture.Directory));

        Assert.Equal(ModelFileProblem.Unreadable, error.Kind);
        Assert.StartsWith(fixture.Directory + ": ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_TextFile_IsNotGgufOnOneLine()
    {
        var text = Path.Combine(fixture.Directory, $"notes-{Guid.NewGuid():N}.gguf");
        File.WriteAllText(text, "these are my notes\nnot a model\n");

        var error = Assert.Throws<ModelFileException>(() => ModelFile.Check(text));

        Assert.Equal(ModelFileProblem.NotGguf, error.Kind);
        Assert.Equal($"{text}: not a GGUF file (the first four bytes are not 'GGUF').", error.Message);
    }

    [Fact]
    public void Check_RelativePath_NamesTheFullPath()
    {
        var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), fixture.ModelPath);

        Assert.Equal(fixture.ModelPath, ModelFile.Check(relative).Path);
    }

    [Fact]
    public void Check_AWellFormedFileLlamaRefuses_GivesLlamasReasonOnOneLine()
    {
        // A llama header and a tensor, but none of the hyperparameters or the vocabulary llama.cpp needs.
        var path = Path.Combine(fixture.Directory, $"hollow-{Guid.NewGuid():N}.gguf");
        new GgufWriter().Add("general.architecture", "llama").AddTensor("token_embd.weight", [64, 2], GgmlType.F32, new float[128]).WriteTo(path);

        var error = Assert.Throws<ModelFileException>(() => ModelFile.Check(path));

        Assert.Equal(ModelFileProblem.RefusedByLlama, error.Kind);
        Assert.StartsWith($"{path}: llama.cpp could not load the model: ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(ModelFileProblem.RefusedByLlama, Assert.Throws<ModelFileException>(() => Native.LlamaModel.Load(path)).Kind);
    }

    [Fact]
    public void CheckHeader_AWellFormedFileLlamaRefuses_Passes()
    {
        var path = Path.Combine(fixture.Directory, $"hollow-{Guid.NewGuid():N}.gguf");
        new GgufWriter().Add("general.architecture", "llama").AddTensor("t", [32], GgmlType.Q8_0, new float[32]).WriteTo(path);

        Assert.Equal("llama", ModelFile.CheckHeader(path).Architecture);
    }

    [Fact]
    public void Architectures_HoldTextGeneratorsOfLlamaCpp_NotEmbeddingModels()
    {
        Assert.Contains("llama", ModelFile.Architectures);
        Assert.Contains("qwen3", ModelFile.Architectures);
        Assert.DoesNotContain("bert", ModelFile.Architectures);
        Assert.DoesNotContain("clip", ModelFile.Architectures);
    }

    [Fact]
    public void Read_QuantisedTypesTheWriterDoesNotProduce_ChecksTheirDataToo()
    {
        // A q4_K tensor (256 values in 144 bytes) is measured like any other: one byte short of its data is truncated.
        var path = Path.Combine(fixture.Directory, $"k-quant-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(path, new RawGguf().String("general.architecture", "llama").Tensor("q", [256, 2], 12, 0).ToBytes(287));

        var error = Assert.Throws<GgufFormatException>(() => GgufFile.Read(path));

        Assert.Equal(ModelFileProblem.Truncated, error.Kind);
        Assert.Contains("tensor 'q' ends at byte", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetInteger_UInt64PastLongRange_IsNull()
    {
        var path = Path.Combine(fixture.Directory, $"huge-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(path, new RawGguf().Key("llama.context_length", 10, w => w.Write(ulong.MaxValue)).String("general.architecture", "llama").ToBytes(0));

        Assert.Null(GgufFile.Read(path).GetArchInteger("context_length"));
    }
}
