package webhook

import (
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxRows is the data-row limit of an upload when UploadOptions.MaxRows is zero.
const DefaultMaxRows = 100000

// maxRawLen bounds RowError.Raw.
const maxRawLen = 1024

// UploadOptions tell ParseUpload how to read a spreadsheet; the zero value detects everything.
type UploadOptions struct {
	Format    string            // "csv", "xlsx", or "" to detect (PK\x03\x04 magic bytes, then the file extension)
	Separator rune              // CSV field separator; 0 detects ';', ',', tab or '|' from the header line
	Encoding  string            // CSV encoding: "" detects (BOM, valid UTF-8, else Windows-1252), or utf-8, windows-1252 (cp1252), iso-8859-1 (latin1), utf-16
	Locale    string            // number and date conventions: "pt-BR" (default) or "en-US"
	Columns   map[string]string // declared column types by header name (as written or normalised): string, int, decimal, date, datetime, bool
	Sheet     string            // XLSX sheet name; "" reads the first sheet
	MaxRows   int               // data-row limit; 0 means DefaultMaxRows
	Location  *time.Location    // zone of datetimes without an offset; nil means America/Sao_Paulo
}

// RowError is one rejected spreadsheet row; the other rows of the file still go through.
type RowError struct {
	Row    int    // 1-based row number as a spreadsheet shows it (the header is row 1)
	Reason string // why the row was rejected, naming the column and value when a value failed
	Raw    string // the row's text (CSV) or tab-joined cells (XLSX), cut to 1 KiB
}

// Error implements error.
func (e RowError) Error() string {
	return fmt.Sprintf("row %d: %s", e.Row, e.Reason)
}

// ParseUpload turns a CSV or XLSX file into one RawEvent (GenericSchema) per data row on
// raw.<source>.<entity>. The first non-blank row is the header; its names are normalised to
// ASCII snake case ("Preço Unitário" -> preco_unitario, duplicates get _2, _3...). Each row's
// payload is a JSON object of column -> normalised string value (null for empty cells) in
// header order; declared columns are parsed and written canonically (decimal "1234.56",
// date "2006-01-02", datetime RFC 3339 UTC, bool "true"/"false", int "123"), others are
// trimmed text. The ID is the hex SHA-256 of source/entity/fileName/row number/payload, so
// re-uploading the same file yields the same IDs; the event time is receivedAt.
//
// Rows with a wrong number of fields (CSV rows may have extra empty trailing fields), a
// declared value that does not parse, or broken quoting are returned in rejected, not as
// errors; blank rows are skipped. A whole-file problem (empty, no header, not CSV/XLSX, bad
// options, a declared column missing from the header) is ErrBadUpload, more than MaxRows data
// rows ErrTooManyRows, bad names ErrBadName.
func ParseUpload(source, entity, fileName string, data []byte, opts UploadOptions, receivedAt time.Time) (events []Event, rejected []RowError, err error) {
	if !ValidName(source) || !ValidName(entity) {
		return nil, nil, fmt.Errorf("source %q and entity %q must match ^[a-z][a-z0-9_]{0,62}$: %w",
			truncate(source, 80), truncate(entity, 80), ErrBadName)
	}
	cfg, err := newUploadConfig(opts)
	if err != nil {
		return nil, nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, fmt.Errorf("empty file: %w", ErrBadUpload)
	}
	format, err := detectFormat(opts.Format, fileName, data)
	if err != nil {
		return nil, nil, err
	}
	t := &table{
		cfg: cfg, source: source, entity: entity, fileName: fileName,
		topic: "raw." + source + "." + entity, receivedAt: receivedAt.UTC(),
	}
	if format == "xlsx" {
		err = readXLSX(data, opts.Sheet, t)
	} else {
		err = readCSV(data, opts, t)
	}
	if err != nil {
		return nil, nil, err
	}
	if t.cols == nil {
		return nil, nil, fmt.Errorf("no header row: %w", ErrBadUpload)
	}
	return t.events, t.rejected, nil
}

// detectFormat returns "csv" or "xlsx".
func detectFormat(declared, fileName string, data []byte) (string, error) {
	switch strings.ToLower(strings.TrimSpace(declared)) {
	case "csv", "text/csv":
		return "csv", nil
	case "xlsx":
		return "xlsx", nil
	case "":
	default:
		return "", fmt.Errorf("format %q, want csv or xlsx: %w", truncate(declared, 40), ErrBadUpload)
	}
	ext := strings.ToLower(path.Ext(fileName))
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return "xlsx", nil
	case bytes.HasPrefix(data, []byte{0xD0, 0xCF, 0x11, 0xE0}) || ext == ".xls":
		return "", fmt.Errorf("legacy .xls files are not supported, save as .xlsx or .csv: %w", ErrBadUpload)
	case ext == ".xlsx" || ext == ".xlsm":
		return "", fmt.Errorf("%s is not a zip-based XLSX file: %w", truncate(fileName, 80), ErrBadUpload)
	}
	return "csv", nil
}

// table turns rows into events: the first non-blank row becomes the header.
type table struct {
	cfg        uploadConfig
	source     string
	entity     string
	fileName   string
	topic      string
	receivedAt time.Time
	padShort   bool // rows may have fewer cells than the header (XLSX omits trailing empty cells)

	cols     []string  // normalised header names; nil until the header is read
	types    []colType // declared type per column
	dataRows int
	events   []Event
	rejected []RowError
	buf      []byte
}

// row handles one spreadsheet row. cells are the displayed values; typed, when not nil, holds
// the raw values used for declared non-string columns (XLSX). bad marks broken quoting.
func (t *table) row(num int, cells, typed []string, raw, bad string) error {
	if bad == "" && blankRow(cells) {
		return nil
	}
	if t.cols == nil {
		if bad != "" {
			return fmt.Errorf("header row %d: %s: %w", num, bad, ErrBadUpload)
		}
		return t.header(cells)
	}
	t.dataRows++
	if t.dataRows > t.cfg.maxRows {
		return fmt.Errorf("more than %d data rows: %w", t.cfg.maxRows, ErrTooManyRows)
	}
	if bad != "" {
		t.reject(num, bad, raw)
		return nil
	}
	if len(cells) > len(t.cols) && !blankRow(cells[len(t.cols):]) || len(cells) < len(t.cols) && !t.padShort {
		t.reject(num, fmt.Sprintf("%d fields, the header has %d", len(cells), len(t.cols)), raw)
		return nil
	}
	b := append(t.buf[:0], '{')
	for i, name := range t.cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, name)
		b = append(b, ':')
		v := cell(cells, i)
		if typed != nil && t.types[i] != typString {
			v = cell(typed, i)
		}
		v = strings.TrimSpace(v)
		if v == "" {
			b = append(b, "null"...)
			continue
		}
		nv, err := normalizeValue(t.types[i], v, t.cfg)
		if err != nil {
			t.reject(num, fmt.Sprintf("column %s: %q is not a valid %s", name, truncate(v, 80), t.types[i]), raw)
			return nil //nolint:nilerr // a bad value rejects this row only; the file goes on
		}
		b = appendJSONString(b, nv)
	}
	b = append(b, '}')
	t.buf = b
	rowText := strconv.Itoa(num)
	id := hashHex("/", []byte(t.source), []byte(t.entity), []byte(t.fileName), []byte(rowText), b)
	rec := newRecord(8, id, t.source, t.entity, t.receivedAt, t.receivedAt, b)
	rec["file_name"] = optString(t.fileName)
	rec["row_number"] = map[string]any{"long": int64(num)}
	t.events = append(t.events, newEvent(t.topic, id, t.source, t.receivedAt, rec, GenericSchema))
	return nil
}

// header reads the column names and matches the declared types to them.
func (t *table) header(cells []string) error {
	t.cols = normalizeHeader(cells)
	t.types = make([]colType, len(t.cols))
	index := make(map[string]int, len(t.cols))
	for i, c := range t.cols {
		index[c] = i
	}
	for name, typ := range t.cfg.columns {
		i, ok := index[name]
		if !ok {
			return fmt.Errorf("declared column %q is not in the header %v: %w", name, t.cols, ErrBadUpload)
		}
		t.types[i] = typ
	}
	return nil
}

// needsTyped reports whether any declared column is not a string.
func (c uploadConfig) needsTyped() bool {
	for _, typ := range c.columns {
		if typ != typString {
			return true
		}
	}
	return false
}

func (t *table) reject(num int, reason, raw string) {
	t.rejected = append(t.rejected, RowError{Row: num, Reason: reason, Raw: truncate(raw, maxRawLen)})
}

// cell returns cells[i], or "" past the end.
func cell(cells []string, i int) string {
	if i < len(cells) {
		return cells[i]
	}
	return ""
}

// blankRow reports whether every cell is empty or spaces.
func blankRow(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// normalizeHeader turns header cells into unique snake-case column names: empty names become
// column_<n> (1-based position), names starting with a digit get a "col_" prefix, duplicates
// get _2, _3, ...
func normalizeHeader(cells []string) []string {
	// Trailing empty header cells (a trailing separator, Excel's used range) are not columns.
	n := len(cells)
	for n > 1 && strings.TrimSpace(cells[n-1]) == "" {
		n--
	}
	out := make([]string, n)
	used := make(map[string]bool, n)
	next := make(map[string]int) // next suffix to try per base name: linear in duplicates
	for i := 0; i < n; i++ {
		name := normalizeColumn(cells[i])
		if name == "" {
			name = "column_" + strconv.Itoa(i+1)
		}
		if used[name] {
			base, k := name, max(next[name], 2)
			for used[base+"_"+strconv.Itoa(k)] {
				k++
			}
			name, next[base] = base+"_"+strconv.Itoa(k), k+1
		}
		used[name] = true
		out[i] = name
	}
	return out
}

// normalizeColumn is the snake-case form of one header or declared column name.
func normalizeColumn(s string) string {
	name := snakeCase(s, 63)
	if name != "" && name[0] >= '0' && name[0] <= '9' {
		name = "col_" + name
	}
	return name
}

// appendJSONString appends s as a JSON string (s is valid UTF-8; HTML characters are not escaped).
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
