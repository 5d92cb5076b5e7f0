using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using VqaApi.Retrieval;

namespace VqaApi.Postgres;

/// <summary>
/// A <see cref="MetadataFilter"/> as a SQL condition on the <c>metadata jsonb</c> column, with the meaning of
/// <see cref="MetadataFilter.Matches"/>: equality of numbers by value (jsonb compares numbers numerically), of strings by text,
/// of booleans and null by kind; objects and arrays never equal; comparisons only on numbers. Field names and operands travel
/// as parameters; only parameter placeholders are written into the SQL text.
/// </summary>
internal static class FilterSql
{
    public static string Where(MetadataFilter? filter, NpgsqlCommand command)
    {
        if (filter is null || filter.Conditions.Count == 0) return "TRUE";
        var sql = new StringBuilder();
        foreach (var c in filter.Conditions)
        {
            if (sql.Length > 0) sql.Append(" AND ");
            var field = Parameter(command, c.Field, NpgsqlDbType.Text);
            var value = $"(metadata -> {field})";
            switch (c.Operator)
            {
                case FilterOperator.Equal:
                    sql.Append(IsScalar(c.Operand) ? $"{value} = {Parameter(command, c.Operand.GetRawText(), NpgsqlDbType.Jsonb)}" : "FALSE");
                    break;
                case FilterOperator.In:
                    var options = c.Operand.EnumerateArray().Where(IsScalar).Select(o => o.GetRawText()).ToArray();
                    sql.Append(options.Length == 0 ? "FALSE" : $"{value} = ANY({Parameter(command, options, NpgsqlDbType.Array | NpgsqlDbType.Jsonb)})");
                    break;
                default:
                    string op = c.Operator switch
                    {
                        FilterOperator.Greater => ">", FilterOperator.GreaterOrEqual => ">=", FilterOperator.Less => "<", _ => "<=",
                    };
                    // CASE: the cast runs only on numbers (AND does not promise an order of evaluation).
                    sql.Append($"(CASE WHEN jsonb_typeof({value}) = 'number' THEN {value}::numeric {op} {Parameter(command, (decimal?)ToDecimal(c.Operand), NpgsqlDbType.Numeric)} ELSE FALSE END)");
                    break;
            }
        }
        return sql.ToString();
    }

    private static bool IsScalar(JsonElement e) => e.ValueKind is JsonValueKind.Number or JsonValueKind.String or JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null;

    /// <summary>A bound as a decimal; one beyond decimal's range compares as the largest decimal of its sign (every stored number
    /// a filter can meet in practice lies within it).</summary>
    private static decimal ToDecimal(JsonElement number) =>
        number.TryGetDecimal(out var d) ? d : number.GetDouble() > 0 ? decimal.MaxValue : decimal.MinValue;

    private static string Parameter(NpgsqlCommand command, object? value, NpgsqlDbType type)
    {
        var name = $"f{command.Parameters.Count}";
        command.Parameters.Add(new NpgsqlParameter(name, type) { Value = value ?? DBNull.Value });
        return "@" + name;
    }
}
