namespace AgentTheater.Client.Progress;

/// <summary>Where long work stands: how much is done, of how much, and what to say about it.</summary>
/// <param name="Done">Units done (scenes, branches, games, percent).</param>
/// <param name="Total">Units in all.</param>
/// <param name="Text">One line for people, e.g. "scenes 3/10 done (0 failed), lines 120"; the display adds the elapsed time.</param>
internal sealed record ProgressUpdate(long Done, long Total, string Text);
