using System.Xml.Linq;

namespace AgentTheater.Client.Tests;

/// <summary>The assemblies reference each other only as docs/architecture.md draws them.</summary>
public sealed class AssemblyLayoutTests
{
    /// <summary>Each production project and the projects it may reference (docs/architecture.md, "Assemblies").</summary>
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Contracts"] = [],
        ["Inference"] = [],
        ["Grains"] = ["Contracts", "Inference"],
        ["Analysis"] = ["Grains"],
        ["Web"] = ["Grains"],
        ["Silo"] = ["Grains", "Web"],
        ["Client"] = ["Analysis", "Grains", "Inference", "Web"],
    };

    [Fact]
    public void ProductionProjects_AreExactlyTheDocumentedOnes()
    {
        var projects = Directory.GetDirectories(RepositoryFiles.Path("src")).Select(Path.GetFileName).Order(StringComparer.Ordinal);

        Assert.Equal(Allowed.Keys.Order(StringComparer.Ordinal), projects);
    }

    [Theory]
    [InlineData("Contracts")]
    [InlineData("Inference")]
    [InlineData("Grains")]
    [InlineData("Analysis")]
    [InlineData("Web")]
    [InlineData("Silo")]
    [InlineData("Client")]
    public void Project_ReferencesOnlyWhatTheArchitectureAllows(string project)
    {
        var file = RepositoryFiles.Path("src", project, $"AgentTheater.{project}.csproj");
        var references = XDocument.Load(file).Descendants("ProjectReference")
            .Select(r => Path.GetFileName(Path.GetDirectoryName(r.Attribute("Include")!.Value.Replace('\\', '/')))!)
            .Order(StringComparer.Ordinal);

        Assert.Equal(Allowed[project].Order(StringComparer.Ordinal), references);
    }

    [Fact]
    public void Contracts_ReferencesOnlyTheOrleansSdk()
    {
        var packages = XDocument.Load(RepositoryFiles.Path("src", "Contracts", "AgentTheater.Contracts.csproj"))
            .Descendants("PackageReference").Select(r => r.Attribute("Include")!.Value);

        Assert.Equal(["Microsoft.Orleans.Sdk"], packages);
    }
}
