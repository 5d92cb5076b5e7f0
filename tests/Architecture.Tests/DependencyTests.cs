using System.Reflection;
using System.Reflection.Emit;

namespace VqaApi.Architecture.Tests;

/// <summary>
/// The structure of docs/architecture.md, checked on the compiled assemblies: project references point one way
/// (down the picture), no namespace of ours depends on a namespace that depends back on it, and only the web API
/// and the command-line tool know ASP.NET Core.
/// </summary>
public class DependencyTests
{
    /// <summary>Each assembly of ours and the assemblies of ours it may reference.</summary>
    private static readonly Dictionary<string, string[]> AllowedReferences = new()
    {
        ["VqaApi.Rendering"] = [],
        ["VqaApi.Retrieval"] = [],
        ["VqaApi.Postgres"] = ["VqaApi.Retrieval", "VqaApi.Tasks", "VqaApi.Rendering"],
        ["VqaApi.Tasks"] = ["VqaApi.Rendering"],
        ["VqaApi.Generation"] = ["VqaApi.Rendering"],
        ["VqaApi"] = ["VqaApi.Rendering", "VqaApi.Tasks", "VqaApi.Retrieval", "VqaApi.Postgres"],
        ["vqa"] = ["VqaApi", "VqaApi.Rendering", "VqaApi.Tasks", "VqaApi.Retrieval", "VqaApi.Postgres", "VqaApi.Generation"],
        ["vqa-generate"] = ["VqaApi.Generation", "VqaApi.Rendering"],
    };

    private static readonly string[] WithoutWebFramework = ["VqaApi.Rendering", "VqaApi.Retrieval", "VqaApi.Postgres", "VqaApi.Tasks", "VqaApi.Generation", "vqa-generate"];

    private static IReadOnlyList<Assembly> Ours() => AllowedReferences.Keys.Select(name => Assembly.Load(new AssemblyName(name))).ToList();

    private static bool IsOurs(string? name) => name is not null && (name == "VqaApi" || name == "vqa" || name == "vqa-generate" || name.StartsWith("VqaApi.", StringComparison.Ordinal));

    [Fact]
    public void Project_references_point_down_the_picture_only()
    {
        var wrong = new List<string>();
        foreach (var assembly in Ours())
        {
            var name = assembly.GetName().Name!;
            foreach (var reference in assembly.GetReferencedAssemblies().Select(r => r.Name).Where(IsOurs))
                if (!AllowedReferences[name].Contains(reference)) wrong.Add($"{name} -> {reference}");
        }
        Assert.True(wrong.Count == 0, "references against docs/architecture.md: " + string.Join(", ", wrong));
    }

    [Fact]
    public void Only_the_api_and_the_tool_know_the_web_framework()
    {
        foreach (var name in WithoutWebFramework)
        {
            var web = Assembly.Load(new AssemblyName(name)).GetReferencedAssemblies().Select(r => r.Name!)
                .Where(r => r.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)).ToList();
            Assert.True(web.Count == 0, $"{name} references {string.Join(", ", web)}");
        }
    }

    [Fact]
    public void No_namespace_of_ours_depends_on_one_that_depends_back_on_it()
    {
        var graph = NamespaceGraph(Ours());
        var cycles = StronglyConnected(graph).Where(c => c.Count > 1).ToList();
        Assert.True(cycles.Count == 0, "namespace cycles: " + string.Join("; ", cycles.Select(c => string.Join(" <-> ", c.Order()))) +
            "\nedges in them: " + string.Join(", ", cycles.SelectMany(c => c.SelectMany(a => graph[a].Where(c.Contains).Select(b => $"{a} -> {b}")))));
        // The check itself sees dependencies: the API uses Tasks, and Tasks uses Rendering.
        Assert.Contains("VqaApi.Tasks.Serving", graph["VqaApi.Api.Vqa"]);
        Assert.Contains("VqaApi.Rendering", graph["VqaApi.Tasks.Canvases"]);
    }

    [Fact]
    public void Domain_errors_carry_a_kind_not_an_http_status()
    {
        foreach (var assembly in new[] { "VqaApi.Tasks", "VqaApi.Retrieval", "VqaApi.Postgres", "VqaApi.Rendering", "VqaApi.Generation" }.Select(n => Assembly.Load(new AssemblyName(n))))
            foreach (var type in assembly.GetTypes().Where(t => typeof(Exception).IsAssignableFrom(t)))
                Assert.DoesNotContain(type.GetProperties(), p => p.Name is "Status" or "StatusCode" && p.PropertyType == typeof(int));
    }

    // ---- reading dependencies ----

    /// <summary>Namespace -> the namespaces of ours its types use: in signatures, fields, base types, and method bodies.</summary>
    private static Dictionary<string, HashSet<string>> NamespaceGraph(IEnumerable<Assembly> assemblies)
    {
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var assembly in assemblies)
            foreach (var type in assembly.GetTypes())
            {
                var from = NamespaceOf(type);
                if (from is null || !from.StartsWith("VqaApi", StringComparison.Ordinal)) continue;
                if (!graph.TryGetValue(from, out var edges)) graph[from] = edges = [];
                foreach (var used in UsedTypes(type))
                    if (NamespaceOf(used) is { } to && to != from && IsOurs(used.Assembly.GetName().Name)) edges.Add(to);
            }
        foreach (var to in graph.Values.SelectMany(v => v).ToList()) graph.TryAdd(to, []);
        return graph;
    }

    /// <summary>The namespace a type belongs to; compiler-generated nested types (lambdas, state machines) count as their outer type's.</summary>
    private static string? NamespaceOf(Type t)
    {
        while (t.DeclaringType is { } outer) t = outer;
        if (t.IsGenericType && !t.IsGenericTypeDefinition) t = t.GetGenericTypeDefinition();
        // The web project's top-level Program sits in no namespace; other namespace-less types are the compiler's
        // (anonymous types, <PrivateImplementationDetails>) and are used where they are made.
        return t.Namespace ?? (t.Name == "Program" && t.Assembly.GetName().Name == "VqaApi" ? "VqaApi.Api" : null);
    }

    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static IEnumerable<Type> UsedTypes(Type type)
    {
        var found = new List<Type>();
        void Add(Type? t)
        {
            if (t is null) return;
            if (t.HasElementType) { Add(t.GetElementType()); return; }
            if (t.IsGenericType) foreach (var a in t.GetGenericArguments()) if (!a.IsGenericParameter) Add(a);
            if (!t.IsGenericParameter) found.Add(t);
        }
        Add(type.BaseType);
        foreach (var i in type.GetInterfaces()) Add(i);
        foreach (var f in type.GetFields(All)) Add(f.FieldType);
        foreach (var p in type.GetProperties(All)) Add(p.PropertyType);
        foreach (var m in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
        {
            if (m is MethodInfo mi) Add(mi.ReturnType);
            foreach (var p in m.GetParameters()) Add(p.ParameterType);
            foreach (var t in TypesInBody(m)) Add(t);
        }
        return found;
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>Types named by the tokens of a method's IL (calls, field accesses, object creation, casts, typeof).</summary>
    private static IEnumerable<Type> TypesInBody(MethodBase method)
    {
        byte[]? il;
        try { il = method.GetMethodBody()?.GetILAsByteArray(); }
        catch (Exception e) when (e is InvalidOperationException or BadImageFormatException) { yield break; }
        if (il is null) yield break;
        var module = method.Module;
        Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (int i = 0; i < il.Length;)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            if (!OpCodesByValue.TryGetValue(value, out var op)) yield break; // not IL we can read: stop here
            int size = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
            if (op.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok)
            {
                int token = BitConverter.ToInt32(il, i);
                Type? t = null;
                try
                {
                    var member = module.ResolveMember(token, typeArgs, methodArgs);
                    t = member as Type ?? member?.DeclaringType;
                }
                catch (Exception e) when (e is ArgumentException or BadImageFormatException or TypeLoadException or FileNotFoundException) { }
                if (t is not null) yield return t;
            }
            i += size;
        }
    }

    /// <summary>Tarjan's strongly connected components.</summary>
    private static List<List<string>> StronglyConnected(Dictionary<string, HashSet<string>> graph)
    {
        int index = 0;
        var indexOf = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var result = new List<List<string>>();
        void Visit(string v)
        {
            indexOf[v] = low[v] = index++;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in graph[v])
            {
                if (!indexOf.ContainsKey(w)) { Visit(w); low[v] = Math.Min(low[v], low[w]); }
                else if (onStack.Contains(w)) low[v] = Math.Min(low[v], indexOf[w]);
            }
            if (low[v] != indexOf[v]) return;
            var component = new List<string>();
            string x;
            do { x = stack.Pop(); onStack.Remove(x); component.Add(x); } while (x != v);
            result.Add(component);
        }
        foreach (var v in graph.Keys) if (!indexOf.ContainsKey(v)) Visit(v);
        return result;
    }
}
