using System.Text.Json;

namespace VqaApi.Retrieval;

/// <summary>
/// Metadata filters: <c>{"field": value}</c> (equality), <c>{"field": {"$in": [a, b]}}</c> (one of), and
/// <c>{"field": {"$gte": 1, "$lt": 5}}</c> (numeric range, with $gt, $gte, $lt, $lte). All conditions must hold.
/// </summary>
public sealed class MetadataFilter
{
    private readonly List<(string Field, Func<JsonElement, bool> Test)> _conditions;

    private MetadataFilter(List<(string, Func<JsonElement, bool>)> conditions, List<FilterCondition> parsed)
    {
        _conditions = conditions;
        Conditions = parsed;
    }

    public IEnumerable<string> Fields => _conditions.Select(c => c.Field);

    /// <summary>The conditions as parsed (all must hold), for a backend that evaluates the filter itself (SQL).</summary>
    public IReadOnlyList<FilterCondition> Conditions { get; }

    public static MetadataFilter? Parse(JsonElement? filter)
    {
        if (filter is not { } f || f.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined) return null;
        if (f.ValueKind != JsonValueKind.Object) throw new CollectionException(CollectionErrorKind.Invalid, "filter must be a JSON object of field conditions");
        var conditions = new List<(string, Func<JsonElement, bool>)>();
        var parsed = new List<FilterCondition>();
        foreach (var p in f.EnumerateObject())
        {
            var value = p.Value.Clone();
            if (value.ValueKind == JsonValueKind.Object && value.EnumerateObject().Any(o => o.Name.StartsWith('$')))
            {
                foreach (var op in value.EnumerateObject())
                {
                    conditions.Add((p.Name, Operator(p.Name, op.Name, op.Value.Clone())));
                    parsed.Add(new FilterCondition(p.Name, op.Name switch
                    {
                        "$eq" => FilterOperator.Equal, "$in" => FilterOperator.In, "$gt" => FilterOperator.Greater, "$gte" => FilterOperator.GreaterOrEqual,
                        "$lt" => FilterOperator.Less, _ => FilterOperator.LessOrEqual,
                    }, op.Value.Clone()));
                }
            }
            else
            {
                conditions.Add((p.Name, Equal(value)));
                parsed.Add(new FilterCondition(p.Name, FilterOperator.Equal, value));
            }
        }
        return new MetadataFilter(conditions, parsed);
    }

    private static Func<JsonElement, bool> Operator(string field, string op, JsonElement operand)
    {
        switch (op)
        {
            case "$eq": return Equal(operand);
            case "$in":
                if (operand.ValueKind != JsonValueKind.Array) throw new CollectionException(CollectionErrorKind.Invalid, $"filter on '{field}': $in needs an array");
                var options = operand.EnumerateArray().Select(o => Equal(o.Clone())).ToArray();
                return v =>
                {
                    foreach (var option in options) if (option(v)) return true;
                    return false;
                };
            case "$gt" or "$gte" or "$lt" or "$lte":
                if (operand.ValueKind != JsonValueKind.Number) throw new CollectionException(CollectionErrorKind.Invalid, $"filter on '{field}': {op} needs a number");
                double bound = operand.GetDouble();
                return op switch // chosen once here, not per item tested
                {
                    "$gt" => v => v.ValueKind == JsonValueKind.Number && v.GetDouble() > bound,
                    "$gte" => v => v.ValueKind == JsonValueKind.Number && v.GetDouble() >= bound,
                    "$lt" => v => v.ValueKind == JsonValueKind.Number && v.GetDouble() < bound,
                    _ => v => v.ValueKind == JsonValueKind.Number && v.GetDouble() <= bound,
                };
            default: throw new CollectionException(CollectionErrorKind.Invalid, $"filter on '{field}': unknown operator '{op}' (use $eq, $in, $gt, $gte, $lt, $lte)");
        }
    }

    public bool Matches(JsonElement metadata)
    {
        if (metadata.ValueKind != JsonValueKind.Object) return false;
        foreach (var (field, test) in _conditions)
            if (!metadata.TryGetProperty(field, out var value) || !test(value)) return false;
        return true;
    }

    /// <summary>A test for equality with <paramref name="operand"/>: numbers by value, strings by their text (compared in place,
    /// without allocating: a filtered search runs the test on up to every item), booleans and null by kind.</summary>
    private static Func<JsonElement, bool> Equal(JsonElement operand)
    {
        switch (operand.ValueKind)
        {
            case JsonValueKind.Number:
                double number = operand.GetDouble();
                return v => v.ValueKind == JsonValueKind.Number && v.GetDouble() == number;
            case JsonValueKind.String:
                string text = operand.GetString()!;
                return v => v.ValueKind == JsonValueKind.String && v.ValueEquals(text);
            case JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null:
                var kind = operand.ValueKind;
                return v => v.ValueKind == kind;
            default:
                return _ => false; // objects and arrays never equal a stored value, as before
        }
    }
}

public enum FilterOperator { Equal, In, Greater, GreaterOrEqual, Less, LessOrEqual }

/// <summary>One parsed condition: the top-level metadata field, the operator, and its operand (checked: an array for
/// <see cref="FilterOperator.In"/>, a number for the four comparisons). Equality has the meaning of
/// <see cref="MetadataFilter.Matches"/>: numbers by value, strings by text, booleans and null by kind, objects and arrays never.</summary>
public sealed record FilterCondition(string Field, FilterOperator Operator, JsonElement Operand);
