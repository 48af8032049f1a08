using System.Diagnostics;
using AgentTheater.Contracts.Attribution;
using AgentTheater.Contracts.Characters;
using AgentTheater.Contracts.Inference;
using AgentTheater.Contracts.Scenarios;
using AgentTheater.Contracts.Scenes;
using AgentTheater.Grains.Characters;
using AgentTheater.Grains.Diagnostics;
using AgentTheater.Grains.Inference;
using AgentTheater.Grains.Scenes.TurnPolicies;
using Microsoft.Extensions.Logging;

namespace AgentTheater.Grains.Scenes;

/// <summary>The play loop: one turn per tick of a grain timer, each line stored, then broadcast, then attributed.</summary>
internal sealed partial class SceneGrain
{
    private IGrainTimer? _turnTimer;
    private Activity? _playSpan;
    private bool _onStage;
    private Task _attributing = Task.CompletedTask;

    /// <summary>The turn being generated once its interventions are spoken (a new one waits for the next turn); null between turns.</summary>
    private int? _speaking;

    /// <summary>
    /// Plays the scene on a grain timer, one turn per tick: Orleans queues the next tick only when the previous
    /// callback has returned, and the period of zero makes it come at once. The ticks interleave with the grain's calls,
    /// so status, transcript, watchers and the run's poll are answered while a line is generated (as a plain request, a
    /// tick would hold them until the turn ends). A tick per turn rather than one for the whole scene: between ticks no
    /// request runs, so the activation can be deactivated there (a silo shutting down) and resumes from its transcript.
    /// KeepAlive: idleness never collects a playing scene.
    /// </summary>
    private void Play(bool resumed) =>
        _turnTimer ??= this.RegisterGrainTimer(PlayTickAsync, resumed, new GrainTimerCreationOptions(TimeSpan.Zero, TimeSpan.Zero) { Interleave = true, KeepAlive = true });

    private async Task PlayTickAsync(bool resumed)
    {
        // Whatever fails ends the scene: a tick that threw would only be followed by the next one.
        bool playing;
        try
        {
            _playSpan ??= StartPlaySpan(resumed);
            if (_playSpan is not null)
            {
                // Each tick starts from its own context: the turns hang from the scene's span.
                Activity.Current = _playSpan;
            }

            if (state.State.Paused && state.State.StopRequested is null)
            {
                // The timer stops until a resume registers it again.
                _playSpan?.SetTag(TheaterTelemetry.Attributes.EndReason, "paused");
                playing = false;
            }
            else
            {
                if (!_onStage)
                {
                    await EnterAsync(resumed);
                    _onStage = true;
                }

                playing = await PlayTurnAsync();
                if (!playing)
                {
                    _playSpan?.SetTag(TheaterTelemetry.Attributes.EndReason, state.State.EndReason);
                }
            }
        }
        catch (Exception e)
        {
            playing = false;
            LogSceneFailed(logger, e, Key);
            _playSpan.RecordError(e);
            try
            {
                await EndAsync(ScenePhase.Failed, e.Message);
            }
            catch (Exception endFailed)
            {
                // Storage or the run grain is unreachable too; the run's poll will find this scene again.
                LogSceneFailed(logger, endFailed, Key);
            }
        }

        if (!playing)
        {
            _turnTimer?.Dispose();
            _turnTimer = null;
            _playSpan?.Stop();
            _playSpan = null;
        }
    }

    /// <summary>
    /// The span of this activation's play. It hangs from the stored context of the call that started the scene (a
    /// root without one), never from whatever is current: a timer tick, or after a failure the call that reactivated the grain.
    /// </summary>
    private Activity? StartPlaySpan(bool resumed)
    {
        var current = Activity.Current;
        Activity.Current = null;
        var play = TheaterTelemetry.Source.StartActivity(TheaterTelemetry.Spans.ScenePlay, ActivityKind.Internal, state.State.TraceParent)?
            .SetTag(TheaterTelemetry.Attributes.Run, Definition.RunId)
            .SetTag(TheaterTelemetry.Attributes.Scenario, Definition.Scenario)
            .SetTag(TheaterTelemetry.Attributes.Scene, Key)
            .SetTag(TheaterTelemetry.Attributes.Resumed, resumed);
        Activity.Current = current;
        return play;
    }

    /// <summary>Casts the characters, then tells the narration (a resumed scene instead repeats its last line).</summary>
    private async Task EnterAsync(bool resumed)
    {
        await JoinCastAsync();
        if (resumed && state.State.Lines.Count > 0)
        {
            // The last stored line may not have reached everyone before the failure; witnessing is idempotent.
            await BroadcastAsync(state.State.Lines[^1]);
            await AttributeAsync();
        }

        if (state.State.Lines.Count == 0)
        {
            foreach (var narration in Definition.Scene.Narration)
            {
                await AddLineAsync(new SceneLine(state.State.Lines.Count, 0, LineKind.Narrator, null, DialoguePrompt.NarratorName, narration));
            }
        }
    }

    /// <summary>Plays one character turn (with any interventions due before it); false when the scene has ended.</summary>
    private async Task<bool> PlayTurnAsync()
    {
        var scene = Definition.Scene;
        var turn = CharacterTurns();
        if (state.State.StopRequested is { } stop)
        {
            await EndAsync(ScenePhase.Completed, stop);
            return false;
        }

        if (turn >= scene.MaxTurns)
        {
            await EndAsync(ScenePhase.Completed, $"max turns ({scene.MaxTurns})");
            return false;
        }

        var started = Stopwatch.GetTimestamp();
        using var activity = TheaterTelemetry.Source.StartActivity(TheaterTelemetry.Spans.SceneTurn)?
            .SetTag(TheaterTelemetry.Attributes.Scene, Key)
            .SetTag(TheaterTelemetry.Attributes.Turn, turn);
        foreach (var intervention in scene.Interventions.Where(i => i.Turn == turn))
        {
            if (!state.State.Lines.Any(l => l.Kind == LineKind.Intervention && l.Turn == turn && l.Text == intervention.Text))
            {
                await AddLineAsync(new SceneLine(state.State.Lines.Count, turn, LineKind.Intervention, null, intervention.Speaker, intervention.Text, intervention.To));
            }
        }

        // Sent while the scene played: each leaves the queue in the same write that stores its line.
        while (state.State.PendingInterventions.Count > 0)
        {
            var sent = state.State.PendingInterventions[0];
            state.State.PendingInterventions.RemoveAt(0);
            await AddLineAsync(new SceneLine(state.State.Lines.Count, turn, LineKind.Intervention, null, sent.Speaker, sent.Text, sent.To));
        }

        // From here an intervention waits for the next turn (a failed turn ends the scene, so no finally is needed).
        _speaking = turn;
        var speaker = await turnPolicies.For(scene.Policy).ChooseSpeakerAsync(new TurnContext(Key, Definition, state.State.Lines, turn, ScoreAsync), CancellationToken.None);
        activity?.SetTag(TheaterTelemetry.Attributes.Character, speaker.Id);
        var request = new SpeakRequest(state.State.Lines.Count, turn, SceneSeeds.Line(Definition.Sampling.Seed, Definition.Replica, turn));
        var line = await CallWithRetriesAsync("speak", speaker.Id, () => Character(speaker.Id).Speak(request));
        await AddLineAsync(line);
        _speaking = null;
        var scenario = Definition.Scenario ?? UnnamedScenario;
        TheaterTelemetry.RecordLine(scenario, speaker.Id, line.Tokens, line.PrefillTokens);
        TheaterTelemetry.TurnDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>(TheaterTelemetry.Tags.Scenario, scenario));
        await GrainFactory.GetGrain<IScenarioRunGrain>(Definition.RunId).LinePlayed(line.Tokens);

        // Attribution of this line is scored while the next one is generated, so its prefill shares the decode steps.
        await _attributing;
        _attributing = AttributeAsync();
        if (scene.StopPhrases.FirstOrDefault(p => line.Text.Contains(p, StringComparison.OrdinalIgnoreCase)) is { } phrase)
        {
            await EndAsync(ScenePhase.Completed, $"stop phrase \"{phrase}\"");
            return false;
        }

        return true;
    }

    /// <summary>Scoring for a turn policy that asks the model (the director).</summary>
    private Task<IReadOnlyList<ScoreReply>> ScoreAsync(string session, IReadOnlyList<ScoreCall> calls) =>
        CallWithRetriesAsync("direct", null, () => GrainFactory.Inference(session).Score(calls));

    /// <summary>Attributes the lines spoken so far (an observer: it never throws; when it fails, the scene plays on and the next call catches up).</summary>
    private async Task AttributeAsync()
    {
        try
        {
            await GrainFactory.GetGrain<ISceneAttributionGrain>(Key).Attribute(Definition, [.. state.State.Lines]);
        }
        catch (Exception e)
        {
            LogAttributionFailed(logger, e, Key);
        }
    }

    private async Task AddLineAsync(SceneLine line)
    {
        state.State.Lines.Add(line);
        await SaveAsync();
        await BroadcastAsync(line);
        Signal();
    }

    private Task BroadcastAsync(SceneLine line)
    {
        var audience = line.To is { } to ? Definition.Cast.Where(c => c.Id == to) : Definition.Cast;
        return Task.WhenAll(audience.Select(c => CallWithRetriesAsync("witness", c.Id, () => Character(c.Id).Witness(line))));
    }

    /// <summary>
    /// Casts the characters; each of a story brings what it remembers of the scenes it played, which the scene keeps
    /// with its start (attribution scores each line against the prompt it was spoken from).
    /// </summary>
    private async Task JoinCastAsync()
    {
        var start = Definition;
        var names = start.Cast.Select(c => c.Name).ToList();
        var carried = await Task.WhenAll(start.Cast.Select(c => CallWithRetriesAsync(
            "join",
            c.Id,
            () => Character(c.Id).Join(new CharacterCasting(Key, c, start.Scene.Setting, names, start.Sampling, start.PromptFormat, start.Memory, start.Carry)))));
        if (start.Carried is null && carried.Any(c => c.Lines.Count > 0 || c.Summary is not null))
        {
            state.State.Start = start with { Carried = carried };
            await SaveAsync();
        }
    }

    private async Task EndAsync(ScenePhase phase, string reason)
    {
        await _attributing;
        state.State.Phase = phase;
        state.State.EndReason = reason;
        await SaveAsync();
        Signal();
        LogSceneEnded(logger, Key, phase, reason, state.State.Lines.Count);
        if (Definition.ParentStory is not null)
        {
            // A branch, or a later scene of a branch's story: not one of its run's scenes (whoever forked it watches
            // it), but the story goes on in the branch.
            await ContinueStoryAsync();
            return;
        }

        if (state.State.Origin is not null)
        {
            return;
        }

        try
        {
            await CallWithRetriesAsync("report the end", null, () => GrainFactory.GetGrain<IScenarioRunGrain>(Definition.RunId).SceneEnded(Status()));
        }
        catch (Exception e)
        {
            // The end is stored: the run's poll reads it from this scene. Failing here must not turn a completed scene into a failed one.
            LogEndNotReported(logger, e, Key);
        }
    }

    /// <summary>
    /// Plays on the story a branch started: each scene that comes after this one in the scenario starts in the branch's
    /// story once the scenes it comes after that are in that story (the branch's scene and those after it) have ended
    /// there; the others it comes after count as played, as they were in the story the branch came from. A character of
    /// such a scene who is not in the branch's story yet comes from that story, as it was before the scene.
    /// </summary>
    private async Task ContinueStoryAsync()
    {
        var start = Definition;
        var story = start.Story!;
        try
        {
            var scenario = await CallWithRetriesAsync("read the scenario", null, () => GrainFactory.GetGrain<IScenarioRunGrain>(start.RunId).GetScenario());
            var root = StoryKeys.SceneId(story);
            if (scenario is null || scenario.Scenes.All(s => s.Id != root))
            {
                // A scene started on its own: its branch has no later scenes.
                return;
            }

            var inBranch = InBranch(scenario, root);
            foreach (var next in scenario.Scenes.Where(s => (s.After ?? []).Contains(start.Scene.Id, StringComparer.Ordinal)))
            {
                var waits = (next.After ?? []).Where(inBranch.Contains).Select(id => id == root ? story : StoryKeys.Continuation(story, id));
                var ended = await Task.WhenAll(waits.Select(async key => key == Key || (await GrainFactory.GetGrain<ISceneGrain>(key).GetStatus()).Phase is ScenePhase.Completed or ScenePhase.Failed));
                if (!ended.All(e => e))
                {
                    continue;
                }

                await Task.WhenAll(next.Present.Select(id => CallWithRetriesAsync(
                    "copy a character into the branch",
                    id,
                    () => GrainFactory.GetGrain<ICharacterGrain>(StoryKeys.Character(start.ParentStory!, id)).CopyBefore(next.Id, StoryKeys.Character(story, id)))));
                // The same run, replica, story and sampling as this scene: only the scene, its cast and what they bring differ.
                var key = StoryKeys.Continuation(story, next.Id);
                await GrainFactory.GetGrain<ISceneGrain>(key).Start(start with { Scene = next, Cast = [.. next.Present.Select(scenario.Character)], Carried = null });
                state.State.Continuations.Add(key);
                await SaveAsync();
                LogStoryContinued(logger, Key, key);
            }
        }
        catch (Exception e)
        {
            // The branch itself has ended as it should; only its story stops here.
            LogStoryNotContinued(logger, e, Key);
        }

        state.State.Continued = true;
        await SaveAsync();
    }

    /// <summary>The scene <paramref name="root"/> and every scene that comes after it, directly or through others.</summary>
    private static HashSet<string> InBranch(ScenarioDefinition scenario, string root)
    {
        var inBranch = new HashSet<string>(StringComparer.Ordinal) { root };
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var scene in scenario.Scenes)
            {
                if (!inBranch.Contains(scene.Id) && (scene.After ?? []).Any(inBranch.Contains))
                {
                    grew |= inBranch.Add(scene.Id);
                }
            }
        }

        return inBranch;
    }

    [LoggerMessage(EventId = 3107, Level = LogLevel.Debug, Message = "Scene {Scene} ended; its branch's story goes on in {Next}")]
    private static partial void LogStoryContinued(ILogger logger, string scene, string next);

    [LoggerMessage(EventId = 3108, Level = LogLevel.Warning, Message = "Scene {Scene} ended, but its branch's story could not go on")]
    private static partial void LogStoryNotContinued(ILogger logger, Exception exception, string scene);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Error, Message = "Scene {Scene} failed")]
    private static partial void LogSceneFailed(ILogger logger, Exception exception, string scene);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Debug, Message = "Scene {Scene} ended ({Phase}: {Reason}) with {Lines} lines")]
    private static partial void LogSceneEnded(ILogger logger, string scene, ScenePhase phase, string reason, int lines);

    [LoggerMessage(EventId = 3106, Level = LogLevel.Warning, Message = "Scene {Scene} ended but could not tell its run; the run's poll will read it")]
    private static partial void LogEndNotReported(ILogger logger, Exception exception, string scene);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Warning, Message = "Scene {Scene}: role attribution failed; the scene plays on")]
    private static partial void LogAttributionFailed(ILogger logger, Exception exception, string scene);
}
