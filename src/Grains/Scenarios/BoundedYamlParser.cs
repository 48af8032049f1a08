using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace AgentTheater.Grains.Scenarios;

/// <summary>
/// Passes YAML parsing events through, stopping with a <see cref="YamlLimitException"/> at the first that would make the
/// document too deep or, with its aliases repeated, too large. YamlDotNet loads a document recursively (a few thousand
/// levels of <c>[</c> overflow the stack and end the process) and hashes mapping keys through every alias, so a "billion
/// laughs" key (nine aliases of nine aliases of ...) would take hours; both are cut off here, before they are loaded.
/// An alias must name an anchor whose node is complete, so a document can never refer to itself. A mapping must end
/// with a value: YamlDotNet's parser can end one after a key (<c>- : x</c>), which its loader does not expect.
/// </summary>
internal sealed class BoundedYamlParser(IParser inner, int maxDepth, long maxNodes) : IParser
{
    private readonly Stack<OpenCollection> open = new();
    private readonly Dictionary<string, (long Nodes, int Depth)> anchors = new(StringComparer.Ordinal);
    private long nodes;

    /// <inheritdoc />
    public ParsingEvent? Current => inner.Current;

    /// <inheritdoc />
    public bool MoveNext()
    {
        if (!inner.MoveNext())
        {
            return false;
        }

        switch (inner.Current)
        {
            case SequenceStart or MappingStart:
                var start = (NodeEvent)inner.Current;
                if (open.Count >= maxDepth)
                {
                    throw Limit(start, $"nesting deeper than {maxDepth} levels; a scenario needs a handful");
                }

                Count(1, start);
                open.Push(new OpenCollection(start.Anchor.IsEmpty ? null : start.Anchor.Value, open.Count + 1));
                break;
            case SequenceEnd or MappingEnd:
                var collection = open.Pop();
                if (inner.Current is MappingEnd && collection.Children % 2 == 1)
                {
                    // YamlDotNet 16 reads "- : x" as a key with no value, which its loader then fails on with an ArgumentException.
                    throw new YamlException(inner.Current.Start, inner.Current.End, "a mapping before this point ends with a key that has no value (does an entry start with ':'?)");
                }

                var depth = collection.Deepest - collection.Level + 1;
                if (collection.Anchor is { } anchor)
                {
                    anchors[anchor] = (collection.Nodes, depth);
                }

                AddToParent(collection.Nodes, collection.Deepest, inner.Current);
                break;
            case Scalar scalar:
                if (!scalar.Anchor.IsEmpty)
                {
                    anchors[scalar.Anchor.Value] = (1, 0);
                }

                Count(1, scalar);
                AddToParent(1, open.Count, scalar);
                break;
            case AnchorAlias alias:
                if (!anchors.TryGetValue(alias.Value.Value, out var named))
                {
                    var name = alias.Value.Value;
                    throw Limit(alias, open.Any(o => o.Anchor == name)
                        ? $"alias {MessageText.Quote("*" + name)} is inside the node it names (a recursive alias)"
                        : $"alias {MessageText.Quote("*" + name)} names no anchor ({MessageText.Quote("&" + name)}) before it");
                }

                Count(named.Nodes, alias);
                AddToParent(named.Nodes, open.Count + named.Depth, alias);
                break;
        }

        return true;
    }

    /// <summary>Counts <paramref name="count"/> more values read (an alias counts as the values it repeats).</summary>
    private void Count(long count, ParsingEvent at)
    {
        nodes += count;
        if (nodes > maxNodes)
        {
            throw Limit(at, string.Create(CultureInfo.InvariantCulture, $"more than {maxNodes:N0} values, counting each alias as the values it repeats; a scenario needs far fewer"));
        }
    }

    /// <summary>Adds a complete node of <paramref name="count"/> values, reaching <paramref name="deepest"/> levels, to the collection it is in.</summary>
    private void AddToParent(long count, int deepest, ParsingEvent at)
    {
        if (deepest > maxDepth)
        {
            throw Limit(at, $"nesting deeper than {maxDepth} levels through aliases; a scenario needs a handful");
        }

        if (open.TryPeek(out var parent))
        {
            parent.Children++;
            parent.Nodes += count;
            parent.Deepest = Math.Max(parent.Deepest, deepest);
        }
    }

    private static YamlLimitException Limit(ParsingEvent at, string message) => new(at.Start, at.End, message);

    /// <summary>
    /// A collection being read: its anchor, its level (1 for the outermost), its nodes so far (itself and every value in
    /// it, aliases repeated), its direct children (keys and values for a mapping) and the deepest level below it.
    /// </summary>
    private sealed class OpenCollection(string? anchor, int level)
    {
        public string? Anchor { get; } = anchor;

        public int Level { get; } = level;

        public long Nodes { get; set; } = 1;

        public int Children { get; set; }

        public int Deepest { get; set; } = level;
    }
}

/// <summary>A YAML document the parser refuses to load: too deep or, with its aliases repeated, too large.</summary>
internal sealed class YamlLimitException(Mark start, Mark end, string message) : YamlException(start, end, message);
