package expect

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// strptime is a Python strptime format compiled to an anchored regexp with
// one group per directive, as Python's _strptime does.
type strptime struct {
	re     *regexp.Regexp
	fields []byte // directive letter of each group
}

// strftimeDirective returns the Python _strptime pattern for a directive.
func strftimeDirective(d byte) (string, bool) {
	switch d {
	case 'd':
		return `3[01]|[12]\d|0[1-9]|[1-9]| [1-9]`, true
	case 'f':
		return `[0-9]{1,6}`, true
	case 'H':
		return `2[0-3]|[0-1]\d|\d`, true
	case 'I':
		return `1[0-2]|0[1-9]|[1-9]`, true
	case 'G', 'Y':
		return `\d\d\d\d`, true
	case 'j':
		return `36[0-6]|3[0-5]\d|[12]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9]`, true
	case 'm':
		return `1[0-2]|0[1-9]|[1-9]`, true
	case 'M':
		return `[0-5]\d|\d`, true
	case 'S':
		return `6[0-1]|[0-5]\d|\d`, true
	case 'U', 'W':
		return `5[0-3]|[0-4]\d|\d`, true
	case 'V':
		return `5[0-3]|0[1-9]|[1-4]\d|\d`, true
	case 'w':
		return `[0-6]`, true
	case 'u':
		return `[1-7]`, true
	case 'y':
		return `\d\d`, true
	case 'z':
		return `[+-]\d\d:?[0-5]\d(?::?[0-5]\d(?:\.\d{1,6})?)?|Z`, true
	case 'Z':
		return `utc|gmt|[a-z]{3,5}`, true
	case 'p':
		return `am|pm`, true
	case 'a':
		return `mon|tue|wed|thu|fri|sat|sun`, true
	case 'A':
		return `monday|tuesday|wednesday|thursday|friday|saturday|sunday`, true
	case 'b':
		return `jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec`, true
	case 'B':
		return `january|february|march|april|may|june|july|august|september|october|november|december`, true
	}
	return "", false
}

// compileStrptime translates a strftime format. Like Python it matches
// case-insensitively, treats whitespace as one or more spaces, rejects
// unknown directives and directives used twice.
func compileStrptime(format string) (*strptime, error) {
	// The C locale's %c, %x and %X, as Python's _strptime uses.
	format = strings.NewReplacer("%c", "%a %b %d %H:%M:%S %Y", "%x", "%m/%d/%y", "%X", "%H:%M:%S").Replace(format)
	var b strings.Builder
	p := &strptime{}
	seen := map[byte]bool{}
	b.WriteString(`^(?i:`)
	for i := 0; i < len(format); i++ {
		c := format[i]
		switch c {
		case '%':
			if i+1 >= len(format) {
				return nil, fmt.Errorf("stray %% at the end of %q", format)
			}
			i++
			d := format[i]
			if d == '%' {
				b.WriteString("%")
				continue
			}
			pat, ok := strftimeDirective(d)
			if !ok {
				return nil, fmt.Errorf("%q is a bad directive in format %q", "%"+string(d), format)
			}
			if seen[d] {
				return nil, fmt.Errorf("directive %%%c used twice in %q", d, format)
			}
			seen[d] = true
			b.WriteString("(" + pat + ")")
			p.fields = append(p.fields, d)
		case ' ', '\t', '\n':
			for i+1 < len(format) && strings.IndexByte(" \t\n", format[i+1]) >= 0 {
				i++
			}
			b.WriteString(`\s+`)
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`)$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("format %q: %w", format, err)
	}
	p.re = re
	return p, nil
}

// valid reports whether s parses with the format to a real date.
func (p *strptime) valid(s string) bool {
	m := p.re.FindStringSubmatchIndex(s)
	if m == nil {
		return false
	}
	year, month, day, yday := 1900, 1, 1, 0
	for i, f := range p.fields {
		part := s[m[2*i+2]:m[2*i+3]]
		switch f {
		case 'Y':
			year, _ = strconv.Atoi(part)
		case 'y':
			y, _ := strconv.Atoi(part)
			year = 1900 + y
			if y < 69 {
				year = 2000 + y
			}
		case 'm':
			month, _ = strconv.Atoi(part)
		case 'b', 'B':
			month = monthIndex(strings.ToLower(part))
		case 'd':
			day, _ = strconv.Atoi(strings.TrimSpace(part))
		case 'j':
			yday, _ = strconv.Atoi(part)
		}
	}
	if day > daysIn(year, month) {
		return false
	}
	return yday == 0 || yday <= time.Date(year, 12, 31, 0, 0, 0, 0, time.UTC).YearDay()
}

// monthIndex returns 1..12 for an English month name or abbreviation, or 0.
func monthIndex(s string) int {
	if len(s) < 3 {
		return 0
	}
	for i, m := range [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"} {
		if strings.HasPrefix(s, m) {
			full := strings.ToLower(time.Month(i + 1).String())
			if s == m || s == full || (m == "sep" && s == "sept") {
				return i + 1
			}
		}
	}
	return 0
}

// daysIn returns the number of days in a month.
func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func compileStrftime(c Config) (Expectation, error) {
	return newColMap(c, nullsSkipped, func(k *kwargs) func(any) bool {
		f := k.str("strftime_format", true)
		if f == "" {
			return nil
		}
		p, err := compileStrptime(f)
		if err != nil {
			k.fail("strftime_format", "%v", err)
			return nil
		}
		return func(v any) bool {
			s, ok := v.(string)
			return ok && p.valid(s)
		}
	})
}
