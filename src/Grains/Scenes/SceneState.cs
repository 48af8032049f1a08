using AgentTheater.Contracts.Scenes;

namespace AgentTheater.Grains.Scenes;

/// <summary>State of a scene: its definition and every line so far (the transcript is the authority).</summary>
[GenerateSerializer, Alias("AgentTheater.SceneState")]
public sealed class SceneState
{
    /// <summary>What was started, null before <see cref="ISceneGrain.Start"/>.</summary>
    [Id(0)] public SceneStart? Start { get; set; }

    /// <summary>Lifecycle phase.</summary>
    [Id(1)] public ScenePhase Phase { get; set; }

    /// <summary>The transcript.</summary>
    [Id(2)] public List<SceneLine> Lines { get; set; } = [];

    /// <summary>Why it ended.</summary>
    [Id(3)] public string? EndReason { get; set; }

    /// <summary>W3C trace context of the call that started the scene: the play loop, resumed or not, continues that trace.</summary>
    [Id(4)] public string? TraceParent { get; set; }

    /// <summary>Where a branch scene was forked from; null for a scene a run started.</summary>
    [Id(5)] public SceneOrigin? Origin { get; set; }

    /// <summary>Forks made of this scene, in order.</summary>
    [Id(6)] public List<SceneForkResult> Forks { get; set; } = [];

    /// <summary>True while paused: the play loop waits for a resume.</summary>
    [Id(7)] public bool Paused { get; set; }

    /// <summary>Why the scene was asked to stop; the play loop ends it at the next turn.</summary>
    [Id(8)] public string? StopRequested { get; set; }

    /// <summary>Interventions sent while the scene plays, spoken before the next character turn.</summary>
    [Id(9)] public List<SceneIntervention> PendingInterventions { get; set; } = [];

    /// <summary>In a branch's story, the later scenes this one started when it ended.</summary>
    [Id(10)] public List<string> Continuations { get; set; } = [];

    /// <summary>In a branch's story, whether its end has started the later scenes it could (<see cref="Continuations"/> is complete).</summary>
    [Id(11)] public bool Continued { get; set; }
}
