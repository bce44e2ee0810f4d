package webhook

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// colType is a declared spreadsheet column type.
type colType int

const (
	typString colType = iota
	typInt
	typDecimal
	typDate
	typDatetime
	typBool
)

var colTypeNames = map[string]colType{
	"string": typString, "int": typInt, "decimal": typDecimal, "date": typDate, "datetime": typDatetime, "bool": typBool,
}

// String returns the type's declared name.
func (c colType) String() string {
	for name, t := range colTypeNames {
		if t == c {
			return name
		}
	}
	return "unknown"
}

// uploadConfig is UploadOptions validated and defaulted.
type uploadConfig struct {
	columns  map[string]colType // by normalised name
	maxRows  int
	ptBR     bool // decimal comma, dd/mm/yyyy; else decimal point, mm/dd/yyyy
	location *time.Location
	// xlsxRaw marks XLSX raw cell values: numbers are plain ("1234.567", "1.5E-3", tried
	// before the locale's form, which text cells may use) and dates may be Excel serials.
	xlsxRaw bool
}

// newUploadConfig validates the options, reporting every problem at once.
func newUploadConfig(o UploadOptions) (uploadConfig, error) {
	cfg := uploadConfig{columns: make(map[string]colType, len(o.Columns)), maxRows: o.MaxRows, location: o.Location}
	var problems []string
	if cfg.maxRows == 0 {
		cfg.maxRows = DefaultMaxRows
	}
	if cfg.maxRows < 0 {
		problems = append(problems, fmt.Sprintf("max rows %d is negative", o.MaxRows))
	}
	if cfg.location == nil {
		cfg.location = saoPaulo()
	}
	switch strings.ToLower(strings.ReplaceAll(strings.TrimSpace(o.Locale), "_", "-")) {
	case "", "pt-br", "pt":
		cfg.ptBR = true
	case "en-us", "en":
	default:
		problems = append(problems, fmt.Sprintf("locale %q, want pt-BR or en-US", truncate(o.Locale, 40)))
	}
	if r := o.Separator; r != 0 && (r >= 0x80 || r == '"' || r == '\r' || r == '\n') {
		problems = append(problems, fmt.Sprintf("separator %q must be one ASCII character other than a quote or newline", r))
	}
	if _, err := csvDecoder(o.Encoding); err != nil {
		problems = append(problems, err.Error())
	}
	for name, typ := range o.Columns {
		t, ok := colTypeNames[strings.ToLower(strings.TrimSpace(typ))]
		if !ok {
			problems = append(problems, fmt.Sprintf("column %q type %q, want string, int, decimal, date, datetime or bool", truncate(name, 80), truncate(typ, 40)))
			continue
		}
		norm := normalizeColumn(name)
		if norm == "" {
			problems = append(problems, fmt.Sprintf("column name %q has no letters or digits", truncate(name, 80)))
			continue
		}
		if prev, dup := cfg.columns[norm]; dup && prev != t {
			problems = append(problems, fmt.Sprintf("column %q declared twice with different types", norm))
		}
		cfg.columns[norm] = t
	}
	if len(problems) > 0 {
		return cfg, fmt.Errorf("upload options: %s: %w", strings.Join(problems, "; "), ErrBadUpload)
	}
	return cfg, nil
}

// normalizeValue parses a non-empty trimmed value of a declared type into its canonical text.
func normalizeValue(t colType, v string, cfg uploadConfig) (string, error) {
	switch t {
	case typInt:
		neg, ip, frac, ok := cfg.number(v)
		if !ok || strings.Trim(frac, "0") != "" {
			return "", errBadValue
		}
		return canonicalDecimal(neg, ip, ""), nil
	case typDecimal:
		neg, ip, frac, ok := cfg.number(v)
		if !ok {
			return "", errBadValue
		}
		return canonicalDecimal(neg, ip, frac), nil
	case typDate:
		d, ok := parseDate(v, cfg)
		if !ok {
			return "", errBadValue
		}
		return d.Format("2006-01-02"), nil
	case typDatetime:
		d, ok := parseDatetime(v, cfg)
		if !ok {
			return "", errBadValue
		}
		return d.UTC().Format(time.RFC3339Nano), nil
	case typBool:
		switch strings.ToLower(v) {
		case "sim", "s", "true", "t", "1", "yes", "y", "verdadeiro", "v":
			return "true", nil
		case "não", "nao", "n", "false", "f", "0", "no", "falso":
			return "false", nil
		}
		return "", errBadValue
	}
	return v, nil
}

// number splits a declared numeric value: plain syntax first for XLSX raw values, else the
// locale's conventions.
func (c uploadConfig) number(v string) (neg bool, intPart, frac string, ok bool) {
	if c.xlsxRaw {
		if neg, intPart, frac, ok = splitPlainDecimal(v); ok && len(intPart)+len(frac) <= maxDecimalDigits {
			return neg, intPart, frac, true
		}
	}
	return localDecimal(v, c.ptBR)
}

// errBadValue marks a value that does not parse as its declared type.
var errBadValue = fmt.Errorf("bad value")

// localDecimal parses a number written with the locale's separators: pt-BR "1.234,56",
// "1234,56", "1234.56" (a single point not followed by exactly three digits is a decimal
// point; "1.234" is one thousand two hundred thirty-four); en-US "1,234.56". It accepts a sign,
// an "R$" or "$" prefix, spaces as grouping, accounting parentheses for negatives, and the
// exponent form of Excel raw values ("1.5E-3").
func localDecimal(v string, ptBR bool) (neg bool, intPart, frac string, ok bool) {
	s := strings.TrimSpace(v)
	if len(s) > 2 && s[0] == '(' && s[len(s)-1] == ')' {
		neg, s = true, strings.TrimSpace(s[1:len(s)-1])
	}
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = neg != (s[0] == '-'), s[1:]
	}
	for _, cur := range []string{"R$", "$"} {
		if strings.HasPrefix(s, cur) {
			s = strings.TrimSpace(s[len(cur):])
			if s != "" && (s[0] == '-' || s[0] == '+') { // "R$ -10,00"
				neg, s = neg != (s[0] == '-'), s[1:]
			}
			break
		}
	}
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "").Replace(s)
	if s == "" || s[0] == '-' || s[0] == '+' {
		return false, "", "", false
	}
	if strings.ContainsAny(s, "eE") {
		n, ip, fr, ok := splitPlainDecimal(s)
		return n != neg, ip, fr, ok
	}
	dec, grp := byte('.'), byte(',')
	if ptBR {
		dec, grp = ',', '.'
	}
	if strings.Count(s, string(dec)) > 1 {
		return false, "", "", false
	}
	intPart = s
	if i := strings.IndexByte(s, dec); i >= 0 {
		intPart, frac = s[:i], s[i+1:]
		if frac == "" {
			return false, "", "", false
		}
	} else if i := strings.IndexByte(s, grp); i >= 0 && strings.Count(s, string(grp)) == 1 && len(s)-i-1 != 3 {
		intPart, frac = s[:i], s[i+1:] // "1234.56" in pt-BR: the only separator is a decimal point
	}
	if strings.IndexByte(intPart, grp) >= 0 {
		groups := strings.Split(intPart, string(grp))
		if len(groups[0]) < 1 || len(groups[0]) > 3 {
			return false, "", "", false
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return false, "", "", false
			}
		}
		intPart = strings.Join(groups, "")
	}
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) ||
		len(intPart)+len(frac) > maxDecimalDigits {
		return false, "", "", false
	}
	return neg, intPart, frac, true
}

// parseDate reads yyyy-mm-dd, dd/mm/yyyy (pt-BR) or mm/dd/yyyy (en-US), optionally followed by a
// valid time that is ignored (the written date is kept), or, in XLSX files, an Excel serial number.
func parseDate(v string, cfg uploadConfig) (time.Time, bool) {
	if d, ok := parseDayPart(v, cfg); ok {
		return d, true
	}
	if i := strings.IndexAny(v, "T "); i > 0 {
		if _, ok := parseDatetime(v, cfg); ok {
			return parseDayPart(v[:i], cfg)
		}
		return time.Time{}, false
	}
	if cfg.xlsxRaw {
		if t, ok := excelSerial(v, time.UTC); ok {
			y, m, d := t.Date()
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), true
		}
	}
	return time.Time{}, false
}

// parseDayPart reads a date without time: yyyy-mm-dd, dd/mm/yyyy or mm/dd/yyyy.
func parseDayPart(v string, cfg uploadConfig) (time.Time, bool) {
	var y, m, d string
	switch {
	case strings.Count(v, "-") == 2:
		p := strings.Split(v, "-")
		y, m, d = p[0], p[1], p[2]
		if len(y) != 4 {
			return time.Time{}, false
		}
	case strings.Count(v, "/") == 2:
		p := strings.Split(v, "/")
		d, m, y = p[0], p[1], p[2]
		if !cfg.ptBR {
			m, d = p[0], p[1]
		}
		if len(y) != 4 {
			return time.Time{}, false
		}
	default:
		return time.Time{}, false
	}
	yi, ok1 := smallInt(y, 4)
	mi, ok2 := smallInt(m, 2)
	di, ok3 := smallInt(d, 2)
	if !ok1 || !ok2 || !ok3 || yi < 1 {
		return time.Time{}, false
	}
	t := time.Date(yi, time.Month(mi), di, 0, 0, 0, 0, time.UTC)
	if t.Year() != yi || int(t.Month()) != mi || t.Day() != di {
		return time.Time{}, false // 31/02/2024 and friends
	}
	return t, true
}

// parseDatetime reads a date with an optional hh:mm[:ss[.frac]] time (a "T" or spaces between),
// an optional Z or offset (otherwise cfg.location), or, in XLSX files, an Excel serial number
// (days since 1899-12-30 with a day fraction, in cfg.location).
func parseDatetime(v string, cfg uploadConfig) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, true
	}
	if cfg.xlsxRaw {
		if t, ok := excelSerial(v, cfg.location); ok {
			return t, true
		}
	}
	datePart, timePart := v, ""
	if i := strings.IndexAny(v, "T "); i >= 0 {
		datePart, timePart = v[:i], strings.TrimSpace(v[i+1:])
	}
	day, ok := parseDayPart(datePart, cfg)
	if !ok {
		return time.Time{}, false
	}
	var hh, mm, ss, nanos int
	if timePart != "" {
		p := strings.Split(timePart, ":")
		if len(p) < 2 || len(p) > 3 {
			return time.Time{}, false
		}
		var ok1, ok2 bool
		hh, ok1 = smallInt(p[0], 2)
		mm, ok2 = smallInt(p[1], 2)
		if !ok1 || !ok2 || hh > 23 || mm > 59 || len(p[1]) != 2 {
			return time.Time{}, false
		}
		if len(p) == 3 {
			sec, frac, _ := strings.Cut(p[2], ".")
			var ok3 bool
			ss, ok3 = smallInt(sec, 2)
			if !ok3 || len(sec) != 2 || ss > 59 || len(frac) > 9 || !allDigits(frac) {
				return time.Time{}, false
			}
			if frac != "" {
				n, _ := smallInt(frac+strings.Repeat("0", 9-len(frac)), 9)
				nanos = n
			}
		}
	}
	return time.Date(day.Year(), day.Month(), day.Day(), hh, mm, ss, nanos, cfg.location), true
}

// excelSerial converts an Excel serial date (1900 date system) to a time in loc.
func excelSerial(v string, loc *time.Location) (time.Time, bool) {
	neg, ip, frac, ok := splitPlainDecimal(v)
	if !ok || neg || len(ip) > 7 {
		return time.Time{}, false
	}
	f := 0.0
	for _, c := range ip + frac {
		f = f*10 + float64(c-'0')
	}
	f /= math.Pow10(len(frac))
	if f < 1 || f > 2958465 { // 1900-01-01 .. 9999-12-31
		return time.Time{}, false
	}
	days := math.Floor(f)
	secs := math.Round((f - days) * 86400)
	base := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	if days < 61 {
		base = base.AddDate(0, 0, 1) // Excel's phantom 1900-02-29
	}
	wall := base.AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second)
	return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, loc), true
}

// smallInt parses 1..maxLen ASCII digits.
func smallInt(s string, maxLen int) (int, bool) {
	if s == "" || len(s) > maxLen || !allDigits(s) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}
