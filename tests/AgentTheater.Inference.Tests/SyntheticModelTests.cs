using AgentTheater.Inference.Gguf;

namespace AgentTheater.Inference.Tests;

public sealed class SyntheticModelTests
{
    [Theory]
    [InlineData("f32")]
    [InlineData("q8_0")]
    public void Write_TinyModel_ReadsBackAsLlamaWithEveryTensor(string type)
    {
        var path = TempFile();
        try
        {
            var shape = SyntheticModelShape.Tiny;
            SyntheticModel.Write(path, shape, GgmlTypeInfo.Parse(type));

            var file = GgufFile.Read(path);

            Assert.Equal("llama", file.Architecture);
            Assert.Equal(shape.BlockCount, file.GetArchInteger("block_count"));
            Assert.Equal(shape.EmbeddingLength, file.GetArchInteger("embedding_length"));
            Assert.Equal(shape.HeadDimension, file.GetArchInteger("rope.dimension_count"));
            Assert.Equal("llama", file.GetString("tokenizer.ggml.model"));
            var tokens = (object[])file.Metadata["tokenizer.ggml.tokens"];
            Assert.Equal(tokens.Length, file.GetArchInteger("vocab_size"));
            Assert.Equal(tokens.Length, ((object[])file.Metadata["tokenizer.ggml.scores"]).Length);
            Assert.Equal(tokens.Length, ((object[])file.Metadata["tokenizer.ggml.token_type"]).Length);
            Assert.Contains("<|im_start|>", file.GetString("tokenizer.chat_template"), StringComparison.Ordinal);
            Assert.Equal(3 + (9 * shape.BlockCount), file.Tensors.Count);
            var names = file.Tensors.Select(t => t.Name).ToHashSet();
            foreach (var name in SyntheticModel.TensorNames(shape))
            {
                Assert.Contains(name, names);
            }

            var embedding = file.Tensors.Single(t => t.Name == "token_embd.weight");
            Assert.Equal([shape.EmbeddingLength, tokens.Length], embedding.Shape);
            Assert.Equal(GgmlTypeInfo.Parse(type), embedding.Type);
            Assert.Equal(GgmlType.F32, file.Tensors.Single(t => t.Name == "blk.0.attn_norm.weight").Type);
            Assert.Equal([shape.EmbeddingLength, shape.KvEmbeddingLength], file.Tensors.Single(t => t.Name == "blk.1.attn_k.weight").Shape);
            Assert.Equal([shape.FeedForwardLength, shape.EmbeddingLength], file.Tensors.Single(t => t.Name == "blk.1.ffn_down.weight").Shape);
            Assert.True(file.FileSize < 5_000_000, $"tiny model is {file.FileSize} bytes");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Write_SameSeed_IsDeterministicAndOtherSeedDiffers()
    {
        var first = TempFile();
        var second = TempFile();
        var third = TempFile();
        try
        {
            SyntheticModel.Write(first, SyntheticModelShape.Tiny, GgmlType.Q4_0, seed: 7);
            SyntheticModel.Write(second, SyntheticModelShape.Tiny, GgmlType.Q4_0, seed: 7);
            SyntheticModel.Write(third, SyntheticModelShape.Tiny, GgmlType.Q4_0, seed: 8);

            Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
            Assert.NotEqual(File.ReadAllBytes(first), File.ReadAllBytes(third));
        }
        finally
        {
            File.Delete(first);
            File.Delete(second);
            File.Delete(third);
        }
    }

    [Fact]
    public void Parse_UnknownName_ThrowsNamingValueAndChoices()
    {
        var error = Assert.Throws<ArgumentException>(() => SyntheticModelShape.Parse("nope"));

        Assert.Contains("'nope'", error.Message, StringComparison.Ordinal);
        Assert.Contains("llama3-8b", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tiny", 64)]
    [InlineData("LLAMA3-1B", 2048)]
    [InlineData("llama3-8b", 4096)]
    public void Parse_PresetName_ReturnsPreset(string name, int embeddingLength)
    {
        Assert.Equal(embeddingLength, SyntheticModelShape.Parse(name).EmbeddingLength);
    }

    [Fact]
    public void Create_Natural_EveryMultiCharacterPieceSplitsIntoTwoTokens()
    {
        var vocabulary = SyntheticVocabulary.Create();
        var known = vocabulary.Tokens.ToHashSet(StringComparer.Ordinal);

        Assert.Equal(vocabulary.Count, known.Count);
        for (var id = 0; id < vocabulary.Count; id++)
        {
            var piece = vocabulary.Tokens[id];
            if (vocabulary.TokenTypes[id] != SpmTokenType.Normal || piece.Length < 2)
            {
                continue;
            }

            var splits = Enumerable.Range(1, piece.Length - 1)
                .Count(at => known.Contains(piece[..at]) && known.Contains(piece[at..]));
            Assert.True(splits > 0, $"token {id} '{piece}' cannot be built from two tokens of the vocabulary");
        }
    }

    [Fact]
    public void Create_Natural_HasSpecialAndByteTokensInLlamaLayout()
    {
        var vocabulary = SyntheticVocabulary.Create();

        Assert.Equal(["<unk>", "<s>", "</s>"], vocabulary.Tokens.Take(3));
        Assert.Equal([SpmTokenType.Unknown, SpmTokenType.Control, SpmTokenType.Control], vocabulary.TokenTypes.Take(3));
        Assert.Equal("<0x0A>", vocabulary.Tokens[3 + 0x0A]);
        Assert.Equal("<0xFF>", vocabulary.Tokens[3 + 0xFF]);
        Assert.All(Enumerable.Range(3, 256), id => Assert.Equal(SpmTokenType.Byte, vocabulary.TokenTypes[id]));
        Assert.Contains("\u2581the", vocabulary.Tokens);
        Assert.Contains("\u2581", vocabulary.Tokens);
        Assert.Contains("~", vocabulary.Tokens);
        Assert.Equal(vocabulary.Count, vocabulary.Scores.Count);
        Assert.Equal(vocabulary.Count, vocabulary.TokenTypes.Count);
        Assert.True(vocabulary.Count < 4000);
    }

    [Fact]
    public void Create_Llama3Padding_Has128256UniqueTokens()
    {
        var vocabulary = SyntheticVocabulary.Create(SyntheticModelShape.Llama3_8B.PaddedVocabularySize);

        Assert.Equal(128256, vocabulary.Count);
        Assert.Equal(128256, vocabulary.Tokens.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(SpmTokenType.Unused, vocabulary.TokenTypes[^1]);
        Assert.Equal(SyntheticVocabulary.Create().Tokens, vocabulary.Tokens.Take(SyntheticVocabulary.Create().Count));
    }

    private static string TempFile() => Path.Combine(Path.GetTempPath(), $"synthetic-{Guid.NewGuid():N}.gguf");
}
