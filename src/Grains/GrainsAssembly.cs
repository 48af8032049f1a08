namespace AgentTheater.Grains;

/// <summary>Marker for the grains assembly (used to register it with silos).</summary>
public static class GrainsAssembly
{
}
