namespace AgentTheater.Contracts.Inference;

/// <summary>One turn of a chat-format prompt, rendered with the model's chat template by the inference pool.</summary>
/// <param name="Role"><see cref="SystemRole"/>, <see cref="UserRole"/> or <see cref="AssistantRole"/>.</param>
/// <param name="Content">The text; always tokenised as text, so marker text in it never becomes a control token.</param>
[GenerateSerializer, Immutable, Alias("AgentTheater.PromptMessage")]
public sealed record PromptMessage(
    [property: Id(0)] string Role,
    [property: Id(1)] string Content)
{
    /// <summary>The system message's role.</summary>
    public const string SystemRole = "system";

    /// <summary>The role of the turns the model answers.</summary>
    public const string UserRole = "user";

    /// <summary>The model's own turns.</summary>
    public const string AssistantRole = "assistant";

    /// <summary>A system message.</summary>
    public static PromptMessage System(string content) => new(SystemRole, content);

    /// <summary>A user turn.</summary>
    public static PromptMessage User(string content) => new(UserRole, content);

    /// <summary>An assistant turn.</summary>
    public static PromptMessage Assistant(string content) => new(AssistantRole, content);
}
