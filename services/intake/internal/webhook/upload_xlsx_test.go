package webhook

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// buildXLSX writes a workbook whose first sheet ("Vendas") has typed cells, a blank row, a row
// shorter than the header and a bad date; a second sheet holds other data.
func buildXLSX(t *testing.T) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Vendas"); err != nil {
		t.Fatal(err)
	}
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14}) // m/d/yy, shown per locale
	if err != nil {
		t.Fatal(err)
	}
	moneyStyle, err := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		t.Fatal(err)
	}
	set := func(cell string, v any) {
		if err := f.SetCellValue("Vendas", cell, v); err != nil {
			t.Fatal(err)
		}
	}
	header := []any{"Pedido", "Data da Venda", "Preço Unitário", "Pago", "Observação"}
	if err := f.SetSheetRow("Vendas", "A1", &header); err != nil {
		t.Fatal(err)
	}
	set("A2", 1001)
	set("B2", time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC))
	set("C2", 1234.56)
	set("D2", true)
	set("E2", "Entrega urgente")
	// row 3 left blank
	set("A4", 1002)
	set("B4", "16/01/2026") // a date typed as text
	set("C4", "99,90")      // a number typed as text, pt-BR
	set("D4", "não")
	// E4 empty: the row is shorter than the header
	set("A5", 1003)
	set("B5", "31/02/2026")
	set("F6", "stray") // a value outside the header, alone on its row
	for _, c := range []string{"B2", "B4", "B5"} {
		_ = f.SetCellStyle("Vendas", c, c, dateStyle)
	}
	_ = f.SetCellStyle("Vendas", "C2", "C4", moneyStyle)
	if _, err := f.NewSheet("Outra"); err != nil {
		t.Fatal(err)
	}
	other := []any{"x"}
	_ = f.SetSheetRow("Outra", "A1", &other)
	other = []any{"only"}
	_ = f.SetSheetRow("Outra", "A2", &other)
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseUploadXLSX(t *testing.T) {
	data := buildXLSX(t)
	opts := UploadOptions{Columns: map[string]string{"data_da_venda": "date", "preco_unitario": "decimal", "pago": "bool", "pedido": "int"}}
	// Detected by magic bytes even with a misleading name.
	events, rejected, err := ParseUpload("legado", "vendas", "vendas.csv", data, opts, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if got := rowNumbers(t, events); !slices.Equal(got, []int{2, 4}) {
		t.Fatalf("rows %v, want [2 4]; rejected %v", got, rejected)
	}
	if len(rejected) != 2 || rejected[0].Row != 5 || !strings.Contains(rejected[0].Reason, "data_da_venda") ||
		rejected[1].Row != 6 || !strings.Contains(rejected[1].Reason, "6 fields") {
		t.Fatalf("rejected %v", rejected)
	}
	r := rows(t, events)
	checks := []struct {
		row       int
		col, want string
	}{
		{0, "pedido", "1001"}, {0, "data_da_venda", "2026-01-15"}, {0, "preco_unitario", "1234.56"}, {0, "pago", "true"},
		{0, "observacao", "Entrega urgente"},
		{1, "pedido", "1002"}, {1, "data_da_venda", "2026-01-16"}, {1, "preco_unitario", "99.90"}, {1, "pago", "false"},
		{1, "observacao", "<null>"},
	}
	for _, c := range checks {
		if got := val(r[c.row], c.col); got != c.want {
			t.Errorf("row %d %s = %q, want %q", c.row, c.col, got, c.want)
		}
	}

	t.Run("undeclared cells are the displayed text", func(t *testing.T) {
		events, _, err := ParseUpload("legado", "vendas", "vendas.xlsx", data, UploadOptions{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		r := rows(t, events)
		if got := val(r[0], "preco_unitario"); got != "1,234.56" {
			t.Errorf("formatted money %q", got)
		}
		if got := val(r[0], "data_da_venda"); got != "15/01/2026" {
			t.Errorf("date shown as %q, want 15/01/2026 as a pt-BR Excel shows it", got)
		}
	})
	t.Run("named sheet", func(t *testing.T) {
		events, _, err := ParseUpload("legado", "outra", "vendas.xlsx", data, UploadOptions{Sheet: "Outra", Format: "xlsx"}, testNow)
		if err != nil || len(events) != 1 || val(rows(t, events)[0], "x") != "only" {
			t.Fatalf("%v %v", events, err)
		}
	})
	t.Run("missing sheet", func(t *testing.T) {
		_, _, err := ParseUpload("legado", "outra", "vendas.xlsx", data, UploadOptions{Sheet: "Nope"}, testNow)
		if !errors.Is(err, ErrBadUpload) {
			t.Fatal(err)
		}
	})
	t.Run("max rows", func(t *testing.T) {
		_, _, err := ParseUpload("legado", "vendas", "vendas.xlsx", data, UploadOptions{MaxRows: 2}, testNow)
		if !errors.Is(err, ErrTooManyRows) {
			t.Fatal(err)
		}
	})
	t.Run("truncated zip", func(t *testing.T) {
		_, _, err := ParseUpload("legado", "vendas", "vendas.xlsx", data[:len(data)/2], UploadOptions{}, testNow)
		if !errors.Is(err, ErrBadUpload) {
			t.Fatal(err)
		}
	})
}
