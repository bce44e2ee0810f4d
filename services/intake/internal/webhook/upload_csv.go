package webhook

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// csvDecoder returns the decoder of a declared CSV encoding; nil means UTF-8 (or detect, for "").
func csvDecoder(name string) (*encoding.Decoder, error) {
	switch strings.ToLower(strings.ReplaceAll(strings.TrimSpace(name), "_", "-")) {
	case "", "utf-8", "utf8":
		return nil, nil
	case "windows-1252", "cp1252", "win1252":
		return charmap.Windows1252.NewDecoder(), nil
	case "iso-8859-1", "latin1", "latin-1", "iso8859-1":
		return charmap.ISO8859_1.NewDecoder(), nil
	case "utf-16", "utf16":
		return unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder(), nil
	}
	return nil, fmt.Errorf("encoding %q, want utf-8, windows-1252, iso-8859-1 or utf-16", truncate(name, 40))
}

// decodeCSVText returns the file as UTF-8 text without a byte-order mark. Undeclared files are
// UTF-8 (with or without BOM), UTF-16 with a BOM, or else Windows-1252.
func decodeCSVText(data []byte, declared string) (string, error) {
	dec, err := csvDecoder(declared)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadUpload, err)
	}
	isUTF16BOM := bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF})
	switch {
	case dec != nil:
	case isUTF16BOM && strings.TrimSpace(declared) == "":
		dec = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder()
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
		fallthrough
	default:
		if utf8.Valid(data) {
			return checkText(string(data))
		}
		if strings.TrimSpace(declared) != "" {
			return "", fmt.Errorf("file is not valid UTF-8 (declared %s): %w", declared, ErrBadUpload)
		}
		dec = charmap.Windows1252.NewDecoder()
	}
	out, err := dec.Bytes(data)
	if err != nil {
		return "", fmt.Errorf("%w: decode %s text: %w", ErrBadUpload, declared, err)
	}
	return checkText(strings.TrimPrefix(string(out), "\uFEFF"))
}

// checkText refuses binary data posing as CSV.
func checkText(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", fmt.Errorf("file has NUL bytes: not a CSV: %w", ErrBadUpload)
	}
	return s, nil
}

// readCSV feeds a CSV file's records to t, numbering rows as a spreadsheet would (every record,
// blank or multi-line, is one row; an Excel "sep=;" first line is not a row).
func readCSV(data []byte, opts UploadOptions, t *table) error {
	text, err := decodeCSVText(data, opts.Encoding)
	if err != nil {
		return err
	}
	if opts.Separator < 0 || opts.Separator >= utf8.RuneSelf || opts.Separator == '"' || opts.Separator == '\n' || opts.Separator == '\r' {
		return fmt.Errorf("%w: separator %q must be one ASCII character other than a quote or line break", ErrBadUpload, opts.Separator)
	}
	sep := byte(opts.Separator)
	if first, rest, ok := strings.Cut(text, "\n"); ok || len(text) <= 6 {
		line := strings.TrimRight(first, "\r")
		if len(line) == 5 && strings.EqualFold(line[:4], "sep=") && line[4] > ' ' && line[4] < 0x80 && line[4] != '"' {
			if opts.Separator == 0 {
				sep = line[4]
			}
			text = rest
		}
	}
	if sep == 0 {
		sep = detectSeparator(text)
	}
	sc := csvScanner{s: text, sep: sep}
	for num := 1; ; num++ {
		fields, raw, bad, ok := sc.next()
		if !ok {
			return nil
		}
		if err := t.row(num, fields, nil, raw, bad); err != nil {
			return err
		}
	}
}

// detectSeparator picks the most frequent of ; , tab | outside quotes on the first non-blank
// line (ties in that order, pt-BR first); ',' when there is none.
func detectSeparator(text string) byte {
	const candidates = ";,\t|"
	var counts [4]int
	inQuote, seen := false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '"' {
			inQuote = !inQuote
			continue
		}
		if inQuote {
			continue
		}
		if c == '\n' || c == '\r' {
			if seen {
				break
			}
			continue
		}
		if c != ' ' {
			seen = true
		}
		if k := strings.IndexByte(candidates, c); k >= 0 {
			counts[k]++
		}
	}
	best := 1 // ','
	for k := range counts {
		if counts[k] > counts[best] || counts[k] == counts[best] && k < best && counts[k] > 0 {
			best = k
		}
	}
	return candidates[best]
}

// csvScanner splits RFC 4180 text into records. Quoted fields may hold separators, newlines and
// doubled quotes; a quote inside an unquoted field is literal. A record with broken quoting is
// returned with bad set and scanning resumes on the next line.
type csvScanner struct {
	s   string
	pos int
	sep byte
	buf []string
	sb  strings.Builder
}

// next returns the next record's fields (valid until the next call), its raw text, and a
// reason when it is malformed; ok is false at the end of the text.
func (c *csvScanner) next() (fields []string, raw, bad string, ok bool) {
	s := c.s
	if c.pos >= len(s) {
		return nil, "", "", false
	}
	start := c.pos
	i := start
	fields = c.buf[:0]
	defer func() { c.buf = fields[:0] }()
	for {
		if i < len(s) && s[i] == '"' {
			c.sb.Reset()
			j := i + 1
			for {
				k := strings.IndexByte(s[j:], '"')
				if k < 0 {
					end := lineEnd(s, start)
					c.pos = skipNewline(s, end)
					return nil, s[start:end], "unterminated quoted field", true
				}
				c.sb.WriteString(s[j : j+k])
				j += k + 1
				if j < len(s) && s[j] == '"' {
					c.sb.WriteByte('"')
					j++
					continue
				}
				break
			}
			fields = append(fields, c.sb.String())
			if j >= len(s) {
				c.pos = j
				return fields, s[start:j], "", true
			}
			switch s[j] {
			case c.sep:
				i = j + 1
				continue
			case '\r', '\n':
				c.pos = skipNewline(s, j)
				return fields, s[start:j], "", true
			}
			end := lineEnd(s, j)
			c.pos = skipNewline(s, end)
			return nil, s[start:end], fmt.Sprintf("unexpected %q after a closing quote", s[j]), true
		}
		k := i
		for k < len(s) && s[k] != c.sep && s[k] != '\n' && s[k] != '\r' {
			k++
		}
		fields = append(fields, s[i:k])
		if k < len(s) && s[k] == c.sep {
			i = k + 1
			continue
		}
		c.pos = skipNewline(s, k)
		return fields, s[start:k], "", true
	}
}

// lineEnd returns the index of the first line break at or after from, or len(s).
func lineEnd(s string, from int) int {
	if k := strings.IndexAny(s[from:], "\r\n"); k >= 0 {
		return from + k
	}
	return len(s)
}

// skipNewline returns the index after the line break at i (\r\n, \n or \r), or i.
func skipNewline(s string, i int) int {
	if i < len(s) && s[i] == '\r' {
		i++
		if i < len(s) && s[i] == '\n' {
			i++
		}
		return i
	}
	if i < len(s) && s[i] == '\n' {
		i++
	}
	return i
}
