using System.Text;
using MiniExcelLibs;
using Prm.Core.Common;
using Prm.Core.Pos;

namespace Prm.Core.Tests.Pos;

public class PosXlsxTests
{
    private const string Header = "reporter,invoiceNo,line,date,productLine,quantity,unitPrice,currency,customerName,customerDomain,customerCountry,reseller";

    /// <summary>A workbook whose first sheet holds <paramref name="rows"/> under the CSV's header (cells typed as given: text, numbers, dates).</summary>
    internal static byte[] Workbook(params object?[][] rows)
    {
        var columns = Header.Split(',');
        var sheet = rows.Select(r => columns.Select((c, i) => (c, r.ElementAtOrDefault(i))).ToDictionary(x => x.c, x => x.Item2)).ToList();
        using var stream = new MemoryStream();
        stream.SaveAs(sheet, excelType: ExcelType.XLSX);
        return stream.ToArray();
    }

    [Fact]
    public void A_workbook_gives_the_same_lines_as_the_csv_with_the_same_content()
    {
        var xlsx = PosImport.ParseXlsx(Workbook(
            ["D1", "INV-1", 1, new DateTime(2026, 10, 5), "cloud-backup", 2, 99.5, "eur", "Acme", "acme.example", "de", "northwind.example"],
            ["D1", "INV-1", 2, "2026-10-06", "cloud-backup", "3", "10", "EUR", null, null, null, "Northwind"]));
        var csv = PosImport.Parse(Encoding.UTF8.GetBytes(Header + "\nD1,INV-1,1,2026-10-05,cloud-backup,2,99.5,eur,Acme,acme.example,de,northwind.example\nD1,INV-1,2,2026-10-06,cloud-backup,3,10,EUR,,,,Northwind"));
        xlsx.Select(r => (r.Number, r.Reporter, r.InvoiceNo, r.InvoiceLine, r.Date, r.ProductLine, r.Quantity, r.UnitPrice, r.Currency, r.CustomerName, r.CustomerDomain, r.CustomerCountry, r.Reseller, r.Errors.Count))
            .Should().Equal(csv.Select(r => (r.Number, r.Reporter, r.InvoiceNo, r.InvoiceLine, r.Date, r.ProductLine, r.Quantity, r.UnitPrice, r.Currency, r.CustomerName, r.CustomerDomain, r.CustomerCountry, r.Reseller, r.Errors.Count)),
                "a line's number is its spreadsheet row, the CSV's its file line: both 2 and 3");
    }

    [Fact]
    public void A_workbook_line_is_checked_field_by_field_like_a_csv_line()
    {
        var row = PosImport.ParseXlsx(Workbook(["D1", "INV-1", 0, "05.10.2026", "cloud-backup", -1, 5, "XXX", null, null, "Germany", "n"])).Single();
        row.Errors.Keys.Should().BeEquivalentTo("line", "date", "quantity", "currency", "customerCountry");
    }

    [Fact]
    public void A_workbook_without_the_columns_or_a_file_that_is_no_workbook_is_refused_naming_the_header_or_the_body()
    {
        using var stream = new MemoryStream();
        stream.SaveAs(new[] { new Dictionary<string, object?> { ["reporter"] = "D1", ["invoiceNo"] = "INV" } }, excelType: ExcelType.XLSX);
        FluentActions.Invoking(() => PosImport.ParseXlsx(stream.ToArray())).Should().Throw<ValidationFailedException>().Which.Errors.Keys.Should().Equal("header");
        FluentActions.Invoking(() => PosImport.ParseXlsx(Encoding.UTF8.GetBytes(Header))).Should().Throw<ValidationFailedException>().Which.Errors.Keys.Should().Equal("body");
        FluentActions.Invoking(() => PosImport.ParseXlsx([0x50, 0x4B, 0x03, 0x04, 1, 2, 3])).Should().Throw<ValidationFailedException>().Which.Errors.Keys.Should().Equal("body");
    }
}
