global using AgentTheater.Testing;
global using Xunit;
