using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace Prm.Core.Common;

/// <summary>
/// Reads an import CSV into typed rows with their line numbers: a header row is required (columns in any order, spaces and case ignored,
/// unknown columns ignored), the required columns must be present, at most <c>maxRows</c> rows. Every refusal is a 400 naming "body".
/// </summary>
public static class CsvRows
{
    public static List<(int Line, T Row)> Read<T>(Stream csv, string columns, IReadOnlyList<string> required, int maxRows)
    {
        static string Key(string header) => header.Trim().Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant();
        var config = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            PrepareHeaderForMatch = args => Key(args.Header),
            HeaderValidated = null,
            MissingFieldFound = null,
            TrimOptions = TrimOptions.Trim,
            DetectDelimiter = true,
        };
        using var reader = new StreamReader(csv);
        using var parser = new CsvReader(reader, config);
        var rows = new List<(int, T)>();
        try
        {
            if (!parser.Read() || !parser.ReadHeader()) throw new ValidationFailedException("body", $"The CSV is empty; expected a header row with: {columns}.");
            var header = parser.HeaderRecord!.Select(Key).ToHashSet();
            var missing = required.Where(c => !header.Contains(c)).ToList();
            if (missing.Count > 0) throw new ValidationFailedException("body", $"The CSV header lacks the column(s) {string.Join(", ", missing)}; expected: {columns}.");
            while (parser.Read())
            {
                if (rows.Count >= maxRows) throw new ValidationFailedException("body", $"At most {maxRows} rows are imported at once.");
                rows.Add((parser.Parser.RawRow, parser.GetRecord<T>()));
            }
        }
        catch (CsvHelperException ex)
        {
            throw new ValidationFailedException("body", $"The CSV could not be read at line {ex.Context?.Parser?.RawRow}: {ex.Message.Split('\n')[0]}");
        }
        return rows;
    }
}
