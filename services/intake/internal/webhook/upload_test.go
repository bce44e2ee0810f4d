package webhook

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rows decodes the payload of each event into a column -> value map (nil for null).
func rows(t *testing.T, events []Event) []map[string]*string {
	t.Helper()
	out := make([]map[string]*string, len(events))
	for i, m := range roundTrip(t, events) {
		if err := json.Unmarshal([]byte(m["payload"].(string)), &out[i]); err != nil {
			t.Fatalf("payload %d: %v", i, err)
		}
	}
	return out
}

func rowNumbers(t *testing.T, events []Event) []int {
	t.Helper()
	var out []int
	for _, m := range roundTrip(t, events) {
		out = append(out, int(m["row_number"].(map[string]any)["long"].(int64)))
	}
	return out
}

func val(r map[string]*string, col string) string {
	v, ok := r[col]
	switch {
	case !ok:
		return "<missing>"
	case v == nil:
		return "<null>"
	}
	return *v
}

func TestParseUploadPtBRCSV(t *testing.T) {
	data := readTestdata(t, "upload/vendas_ptbr.csv")
	opts := UploadOptions{Columns: map[string]string{
		"Data da Venda": "date", "preco_unitario": "decimal", "Quantidade": "int", "Pago": "bool", "Atualizado em": "datetime",
	}}
	events, rejected, err := ParseUpload("legado", "vendas", "vendas_2026.csv", data, opts, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if got := rowNumbers(t, events); !slices.Equal(got, []int{2, 3, 7}) {
		t.Fatalf("accepted rows %v, want [2 3 7]", got)
	}
	var rej []int
	for _, r := range rejected {
		rej = append(rej, r.Row)
	}
	if !slices.Equal(rej, []int{5, 6, 9}) {
		t.Fatalf("rejected rows %v (%v), want [5 6 9]", rej, rejected)
	}
	for i, want := range []string{`column data_da_venda: "31/02/2026" is not a valid date`, "4 fields, the header has 9",
		`column preco_unitario: "12,34,56" is not a valid decimal`} {
		if rejected[i].Reason != want {
			t.Errorf("row %d reason %q, want %q", rejected[i].Row, rejected[i].Reason, want)
		}
	}
	if !strings.HasPrefix(rejected[1].Raw, "1004;17/01/2026;Curto") {
		t.Errorf("raw %q", rejected[1].Raw)
	}
	r := rows(t, events)
	wantCols := []string{"pedido", "data_da_venda", "cliente", "preco_unitario", "quantidade", "pago", "atualizado_em", "observacao", "observacao_2"}
	payload := events[0].Value["payload"].(string)
	last := -1
	for _, c := range wantCols { // header order is kept
		i := strings.Index(payload, `"`+c+`":`)
		if i <= last {
			t.Fatalf("column %s missing or out of order in %s", c, payload)
		}
		last = i
	}
	checks := []struct {
		row       int
		col, want string
	}{
		{0, "pedido", "1001"}, {0, "data_da_venda", "2026-01-15"}, {0, "cliente", "Padaria Pão Quente"},
		{0, "preco_unitario", "1234.56"}, {0, "quantidade", "2"}, {0, "pago", "true"},
		{0, "atualizado_em", "2026-01-15T17:30:00Z"}, {0, "observacao", "Entrega; urgente"}, {0, "observacao_2", "a"},
		{1, "data_da_venda", "2026-01-16"}, {1, "preco_unitario", "99.9"}, {1, "pago", "false"},
		{1, "atualizado_em", "2026-01-16T12:05:10Z"}, {1, "observacao", "Linha 1\nLinha 2"},
		{2, "cliente", `Aspas "duplas"`}, {2, "preco_unitario", "1234.56"}, {2, "pago", "false"},
		{2, "atualizado_em", "<null>"}, {2, "observacao", "<null>"},
	}
	for _, c := range checks {
		if got := val(r[c.row], c.col); got != c.want {
			t.Errorf("row %d %s = %q, want %q", c.row, c.col, got, c.want)
		}
	}
	m := roundTrip(t, events)[0]
	if str(m, "file_name") != "vendas_2026.csv" || events[0].Topic != "raw.legado.vendas" || !events[0].Time.Equal(testNow) {
		t.Errorf("event %v", m)
	}

	// Same file again: same ids. Another file name: other ids.
	again, _, _ := ParseUpload("legado", "vendas", "vendas_2026.csv", data, opts, testNow.Add(time.Hour))
	other, _, _ := ParseUpload("legado", "vendas", "vendas_2026_v2.csv", data, opts, testNow)
	for i := range events {
		if again[i].ID != events[i].ID || other[i].ID == events[i].ID || len(events[i].ID) != 64 {
			t.Fatalf("row %d ids %s / %s / %s", i, events[i].ID, again[i].ID, other[i].ID)
		}
	}
}

func TestParseUploadEncodingsAndSeparators(t *testing.T) {
	tests := []struct {
		file  string
		opts  UploadOptions
		rows  []int
		check map[string]string // column -> value in the first row
	}{
		{"clientes_cp1252.csv", UploadOptions{Columns: map[string]string{"valor": "decimal"}}, []int{2, 3},
			map[string]string{"codigo": "1", "razao_social": "Açougue São João", "municipio": "São Paulo", "valor": "1500.00"}},
		{"clientes_cp1252.csv", UploadOptions{Encoding: "windows-1252"}, []int{2, 3}, map[string]string{"valor": "R$ 1.500,00"}},
		{"produtos.tsv", UploadOptions{Columns: map[string]string{"preco": "decimal"}}, []int{2, 3},
			map[string]string{"sku": "A1", "nome": "Caneta azul", "preco": "2.50"}},
		{"produtos.tsv", UploadOptions{Separator: '\t', Locale: "en-US", Columns: map[string]string{"preco": "decimal"}}, []int{2, 3},
			map[string]string{"preco": "2.50"}},
		{"excel_sep.csv", UploadOptions{}, []int{2, 3}, map[string]string{"id": "1", "nome": "um"}},
		{"broken_quote.csv", UploadOptions{}, []int{2, 4, 6}, map[string]string{"obs": "fine"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			events, _, err := ParseUpload("legado", "x", tt.file, readTestdata(t, "upload/"+tt.file), tt.opts, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if got := rowNumbers(t, events); !slices.Equal(got, tt.rows) {
				t.Fatalf("rows %v, want %v", got, tt.rows)
			}
			r := rows(t, events)[0]
			for col, want := range tt.check {
				if got := val(r, col); got != want {
					t.Errorf("%s = %q, want %q", col, got, want)
				}
			}
		})
	}
	t.Run("broken quoting rejected, others kept", func(t *testing.T) {
		_, rejected, err := ParseUpload("legado", "x", "b.csv", readTestdata(t, "upload/broken_quote.csv"), UploadOptions{}, testNow)
		if err != nil || len(rejected) != 2 || rejected[0].Row != 3 || rejected[1].Row != 5 ||
			!strings.Contains(rejected[0].Reason, "after a closing quote") || rejected[1].Reason != "unterminated quoted field" {
			t.Fatalf("rejected %v, %v", rejected, err)
		}
	})
	t.Run("utf-16 with BOM", func(t *testing.T) {
		text := "nome\tcidade\r\nJosé\tSão Paulo\r\n"
		var b []byte
		b = append(b, 0xFF, 0xFE)
		for _, r := range text {
			b = append(b, byte(r), byte(r>>8))
		}
		events, _, err := ParseUpload("legado", "x", "u.txt", b, UploadOptions{}, testNow)
		if err != nil || len(events) != 1 || val(rows(t, events)[0], "cidade") != "São Paulo" {
			t.Fatalf("%v %v", events, err)
		}
	})
	t.Run("trailing separators and CRLF", func(t *testing.T) {
		events, rejected, err := ParseUpload("legado", "x", "t.csv", []byte("a;b;\r\n1;2;\r\n3;4;;\r\n"), UploadOptions{}, testNow)
		if err != nil || len(events) != 2 || len(rejected) != 0 {
			t.Fatalf("%d events %v %v", len(events), rejected, err)
		}
	})
	t.Run("extra non-empty field rejected", func(t *testing.T) {
		_, rejected, err := ParseUpload("legado", "x", "t.csv", []byte("a,b\n1,2,3\n"), UploadOptions{}, testNow)
		if err != nil || len(rejected) != 1 || rejected[0].Reason != "3 fields, the header has 2" {
			t.Fatalf("%v %v", rejected, err)
		}
	})
}

func TestParseUploadWholeFileErrors(t *testing.T) {
	tests := []struct {
		name, file string
		data       string
		opts       UploadOptions
		want       error
		says       string
	}{
		{"empty", "a.csv", "", UploadOptions{}, ErrBadUpload, "empty"},
		{"spaces", "a.csv", " \r\n \n", UploadOptions{}, ErrBadUpload, "empty"},
		{"only blank rows", "a.csv", ";;\n;;\n", UploadOptions{}, ErrBadUpload, "no header"},
		{"legacy xls", "a.xls", "\xD0\xCF\x11\xE0rest", UploadOptions{}, ErrBadUpload, ".xls"},
		{"xlsx name, not zip", "a.xlsx", "a,b\n1,2\n", UploadOptions{}, ErrBadUpload, "not a zip"},
		{"declared xlsx, not zip", "a.csv", "a,b\n1,2\n", UploadOptions{Format: "xlsx"}, ErrBadUpload, "XLSX"},
		{"binary", "a.csv", "a,b\n\x00\x01\x02", UploadOptions{}, ErrBadUpload, "NUL"},
		{"unknown format", "a.csv", "a\n1\n", UploadOptions{Format: "ods"}, ErrBadUpload, "format"},
		{"bad options listed together", "a.csv", "a\n1\n", UploadOptions{Locale: "fr-FR", Encoding: "ebcdic", Separator: 'é',
			Columns: map[string]string{"a": "money"}, MaxRows: -1}, ErrBadUpload, "locale"},
		{"declared column missing", "a.csv", "a,b\n1,2\n", UploadOptions{Columns: map[string]string{"c": "int"}}, ErrBadUpload, `"c"`},
		{"declared utf-8 invalid", "a.csv", "a\n\xe9\n", UploadOptions{Encoding: "utf-8"}, ErrBadUpload, "UTF-8"},
		{"too many rows", "a.csv", "a\n1\n2\n3\n", UploadOptions{MaxRows: 2}, ErrTooManyRows, "more than 2"},
		{"broken header", "a.csv", "\"a,b\n", UploadOptions{}, ErrBadUpload, "header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, rejected, err := ParseUpload("legado", "x", tt.file, []byte(tt.data), tt.opts, testNow)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) || events != nil || rejected != nil {
				t.Fatalf("err %v, want %v saying %q", err, tt.want, tt.says)
			}
		})
	}
	t.Run("bad options name every problem", func(t *testing.T) {
		_, _, err := ParseUpload("legado", "x", "a.csv", []byte("a\n1\n"), UploadOptions{Locale: "fr-FR", Encoding: "ebcdic",
			Separator: 'é', Columns: map[string]string{"a": "money"}, MaxRows: -1}, testNow)
		for _, s := range []string{"locale", "encoding", "separator", "money", "max rows"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q does not mention %s", err, s)
			}
		}
	})
	t.Run("bad names", func(t *testing.T) {
		if _, _, err := ParseUpload("Legado", "x", "a.csv", []byte("a\n1\n"), UploadOptions{}, testNow); !errors.Is(err, ErrBadName) {
			t.Fatal(err)
		}
	})
	t.Run("max rows counts rejected rows, not blank ones", func(t *testing.T) {
		events, rejected, err := ParseUpload("legado", "x", "a.csv", []byte("a,b\n1,2\n\n\nbad\n"), UploadOptions{MaxRows: 2}, testNow)
		if err != nil || len(events) != 1 || len(rejected) != 1 {
			t.Fatalf("%d %d %v", len(events), len(rejected), err)
		}
	})
	t.Run("header only", func(t *testing.T) {
		events, rejected, err := ParseUpload("legado", "x", "a.csv", []byte("a,b\n"), UploadOptions{}, testNow)
		if err != nil || len(events) != 0 || len(rejected) != 0 {
			t.Fatalf("%v %v %v", events, rejected, err)
		}
	})
}

func TestNormalizeHeader(t *testing.T) {
	got := normalizeHeader([]string{"Preço Unitário", "  Nome  ", "E-mail", "CNPJ/CPF", "1º Contato", "", "Nome", "nome",
		"ValorTotal", "ID", "IDCliente", "Observação (interna)", "", ""})
	want := []string{"preco_unitario", "nome", "e_mail", "cnpj_cpf", "col_1o_contato", "column_6", "nome_2", "nome_3",
		"valor_total", "id", "id_cliente", "observacao_interna"}
	if !slices.Equal(got, want) {
		t.Fatalf("normalizeHeader =\n%v, want\n%v", got, want)
	}
}

func TestNormalizeValue(t *testing.T) {
	pt := uploadConfig{ptBR: true, location: saoPaulo()}
	en := uploadConfig{location: saoPaulo()}
	xl := uploadConfig{ptBR: true, location: saoPaulo(), xlsxRaw: true}
	tests := []struct {
		typ  colType
		cfg  uploadConfig
		in   string
		want string // "!" = rejected
	}{
		{typDecimal, pt, "1.234,56", "1234.56"}, {typDecimal, pt, "1234.56", "1234.56"}, {typDecimal, pt, "1234,56", "1234.56"},
		{typDecimal, pt, "R$ 1.234,56", "1234.56"}, {typDecimal, pt, "-R$ 10,00", "-10.00"}, {typDecimal, pt, "R$ -10,00", "-10.00"},
		{typDecimal, pt, "(1.234,56)", "-1234.56"}, {typDecimal, pt, "1.234.567,8", "1234567.8"}, {typDecimal, pt, "1.234", "1234"},
		{typDecimal, pt, "1 234,5", "1234.5"}, {typDecimal, pt, "0,50", "0.50"}, {typDecimal, pt, ",5", "0.5"}, {typDecimal, pt, "007", "7"},
		{typDecimal, pt, "-0,00", "0.00"}, {typDecimal, pt, "1.5E-3", "0.0015"}, {typDecimal, pt, "2E+2", "200"},
		{typDecimal, pt, "12,34,56", "!"}, {typDecimal, pt, "1.23.4", "!"}, {typDecimal, pt, "abc", "!"}, {typDecimal, pt, "1,", "!"},
		{typDecimal, pt, "--1", "!"}, {typDecimal, pt, "1e999", "!"}, {typDecimal, pt, "R$", "!"},
		{typDecimal, en, "1,234.56", "1234.56"}, {typDecimal, en, "1234,56", "1234.56"}, {typDecimal, en, "1,234", "1234"},
		{typInt, pt, "42", "42"}, {typInt, pt, "-1.000", "-1000"}, {typInt, pt, "12,00", "12"}, {typInt, pt, "12,5", "!"},
		{typDate, pt, "15/01/2026", "2026-01-15"}, {typDate, pt, "5/1/2026", "2026-01-05"}, {typDate, pt, "2026-01-15", "2026-01-15"},
		{typDate, pt, "2026-01-15 23:59:59", "2026-01-15"}, {typDate, pt, "29/02/2024", "2024-02-29"}, {typDate, pt, "29/02/2025", "!"},
		{typDate, pt, "15/01/26", "!"}, {typDate, pt, "45306", "!"}, {typDate, xl, "45306", "2024-01-15"},
		{typDate, en, "01/15/2026", "2026-01-15"}, {typDate, en, "15/01/2026", "!"},
		{typDatetime, pt, "15/01/2026 14:30", "2026-01-15T17:30:00Z"}, {typDatetime, pt, "15/01/2026 14:30:05", "2026-01-15T17:30:05Z"},
		{typDatetime, pt, "2026-01-15T14:30:00-03:00", "2026-01-15T17:30:00Z"}, {typDatetime, pt, "2026-01-15T14:30:00Z", "2026-01-15T14:30:00Z"},
		{typDatetime, pt, "2026-01-15 14:30:00.250", "2026-01-15T17:30:00.25Z"}, {typDatetime, pt, "15/01/2026", "2026-01-15T03:00:00Z"},
		{typDatetime, pt, "15/01/2026 24:00", "!"}, {typDatetime, pt, "15/01/2026 14:3", "!"},
		{typDatetime, pt, "01/01/2018 12:00", "2018-01-01T14:00:00Z"}, // DST (UTC-2) before 2019
		{typDatetime, xl, "45306.5", "2024-01-15T15:00:00Z"},
		{typBool, pt, "sim", "true"}, {typBool, pt, "Não", "false"}, {typBool, pt, "NAO", "false"}, {typBool, pt, "S", "true"},
		{typBool, pt, "n", "false"}, {typBool, pt, "TRUE", "true"}, {typBool, pt, "0", "false"}, {typBool, pt, "VERDADEIRO", "true"},
		{typBool, pt, "talvez", "!"},
		{typString, pt, "  keep  ", "  keep  "},
	}
	for _, tt := range tests {
		got, err := normalizeValue(tt.typ, tt.in, tt.cfg)
		if tt.want == "!" {
			if err == nil {
				t.Errorf("%s %q = %q, want rejected", tt.typ, tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s %q (ptBR=%v) = %q, %v; want %q", tt.typ, tt.in, tt.cfg.ptBR, got, err, tt.want)
		}
	}
}

func FuzzParseUpload(f *testing.F) {
	for _, s := range seeds(f, "upload") {
		f.Add(s, byte(0), false)
		f.Add(s, byte(';'), true)
	}
	f.Add([]byte("a;b\n\"x\"\"y\";\"multi\nline\"\n"), byte(0), false)
	f.Fuzz(func(t *testing.T, data []byte, sep byte, typed bool) {
		opts := UploadOptions{Format: "csv", MaxRows: 500}
		if sep != 0 {
			opts.Separator = rune(sep)
		}
		if typed {
			// Declare every header column with a type picked by position, when there is a header.
			if ev, _, err := ParseUpload("f", "x", "a.csv", data, opts, testNow); err == nil && len(ev) > 0 {
				var cols map[string]*string
				_ = json.Unmarshal([]byte(ev[0].Value["payload"].(string)), &cols)
				opts.Columns = map[string]string{}
				types := []string{"int", "decimal", "date", "datetime", "bool", "string"}
				i := 0
				for c := range cols {
					opts.Columns[c] = types[i%len(types)]
					i++
				}
			}
		}
		events, rejected, err := ParseUpload("f", "x", "a.csv", data, opts, testNow)
		if err != nil {
			if !errors.Is(err, ErrBadUpload) && !errors.Is(err, ErrTooManyRows) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if len(events)+len(rejected) > opts.MaxRows {
			t.Fatalf("%d rows over the limit", len(events)+len(rejected))
		}
		last := 1
		for i, m := range roundTrip(t, events) {
			n := int(m["row_number"].(map[string]any)["long"].(int64))
			if n <= last {
				t.Fatalf("row numbers not increasing past the header: %d after %d", n, last)
			}
			last = n
			var obj map[string]*string
			if err := json.Unmarshal([]byte(m["payload"].(string)), &obj); err != nil {
				t.Fatalf("row %d payload not a JSON object of strings: %v", i, err)
			}
		}
		for _, r := range rejected {
			if r.Row < 2 || r.Reason == "" || len(r.Raw) > maxRawLen+len("…") {
				t.Fatalf("bad rejection %+v", r)
			}
		}
	})
}

func TestNormalizeHeaderManyDuplicates(t *testing.T) {
	cells := make([]string, 20000)
	for i := range cells {
		cells[i] = "Nome"
	}
	cells[5] = "nome_3"
	start := time.Now()
	got := normalizeHeader(cells)
	seen := map[string]bool{}
	for _, c := range got {
		if seen[c] {
			t.Fatalf("duplicate column %s", c)
		}
		seen[c] = true
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("normalizeHeader took %v for 20000 duplicates", d)
	}
}

// BenchmarkParseUploadCSV measures a 10,000-row pt-BR CSV with declared columns.
func BenchmarkParseUploadCSV(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("Pedido;Data;Cliente;Preço Unitário;Pago\r\n")
	for i := 0; i < 10000; i++ {
		sb.WriteString(strconv.Itoa(i) + ";15/01/2026;Padaria Pão Quente;1.234,56;sim\r\n")
	}
	data := []byte(sb.String())
	opts := UploadOptions{Columns: map[string]string{"data": "date", "preco_unitario": "decimal", "pago": "bool"}}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		events, _, err := ParseUpload("legado", "vendas", "v.csv", data, opts, testNow)
		if err != nil || len(events) != 10000 {
			b.Fatal(err)
		}
	}
}

func TestNormalizeValueXLSXRawNumbers(t *testing.T) {
	xl := uploadConfig{ptBR: true, location: saoPaulo(), xlsxRaw: true}
	for in, want := range map[string]string{"1234.567": "1234.567", "1.5E-3": "0.0015", "99,90": "99.90", "1.234,5": "1234.5"} {
		if got, err := normalizeValue(typDecimal, in, xl); err != nil || got != want {
			t.Errorf("xlsx decimal %q = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, _ := normalizeValue(typInt, "12.0", xl); got != "12" {
		t.Errorf("xlsx int 12.0 = %q", got)
	}
}
