package expect

import (
	"strconv"
	"strings"
	"unicode"
)

// dtok is a token of a free-form date string.
type dtok struct {
	kind byte // 'n' number, 'w' word, else the separator itself
	text string
}

// splitDate tokenizes s into numbers, words and single separators.
func splitDate(s string) []dtok {
	var out []dtok
	rs := []rune(s)
	for i := 0; i < len(rs); {
		r := rs[i]
		j := i + 1
		switch {
		case unicode.IsDigit(r):
			for j < len(rs) && unicode.IsDigit(rs[j]) {
				j++
			}
			out = append(out, dtok{'n', string(rs[i:j])})
		case unicode.IsLetter(r):
			for j < len(rs) && unicode.IsLetter(rs[j]) {
				j++
			}
			out = append(out, dtok{'w', string(rs[i:j])})
		case r < 128:
			out = append(out, dtok{byte(r), string(r)})
		default:
			out = append(out, dtok{'?', string(r)})
		}
		i = j
	}
	return out
}

// dateutilParseable approximates dateutil.parser.parse (dayfirst=False,
// fuzzy=False): every word must be a month, weekday, AM/PM, time zone or
// filler word; numbers must form a time (H:M[:S[.f]]) and at most a day,
// month and year that make a real date; at least one part must be present.
func dateutilParseable(s string) bool {
	toks := splitDate(s)
	var ymd []string
	month, timeSet, any := 0, false, false
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t.kind {
		case 'n':
			next := func(k int) dtok {
				if i+k < len(toks) {
					return toks[i+k]
				}
				return dtok{}
			}
			switch {
			case next(1).kind == ':' && !timeSet:
				n, ok := clockTime(toks[i:])
				if !ok {
					return false
				}
				i += n - 1
				timeSet, any = true, true
			case i > 0 && timeSet && (toks[i-1].kind == '+' || toks[i-1].kind == '-'):
				if next(1).kind == ':' && next(2).kind == 'n' {
					i += 2
				}
			case len(t.text) == 8 || len(t.text) == 12 || len(t.text) == 14:
				if len(ymd) > 0 || !compactDate(t.text) {
					return false
				}
				ymd, any = []string{t.text[:4], t.text[4:6], t.text[6:8]}, true
			case next(1).kind == 'w' && isAMPM(next(1).text) || next(1).kind == ' ' && next(2).kind == 'w' && isAMPM(next(2).text):
				if h, _ := strconv.Atoi(t.text); h < 1 || h > 12 || timeSet {
					return false
				}
				timeSet, any = true, true
			default:
				if len(ymd) >= 3 || len(t.text) > 4 {
					return false
				}
				ymd, any = append(ymd, t.text), true
			}
		case 'w':
			w := strings.ToLower(t.text)
			if m := monthIndex(w); m > 0 {
				if month > 0 {
					return false
				}
				month, any = m, true
				continue
			}
			if !dateWord(w) && (!timeSet || len(t.text) > 5 || strings.ToUpper(t.text) != t.text) {
				return false
			}
		case ' ', ',', '-', '/', '.', '+', '\'', ';', '\t':
		default:
			return false
		}
	}
	return any && validYMD(ymd, month)
}

// clockTime reads H:M[:S[.f]] at the start of toks, returning the tokens used.
func clockTime(toks []dtok) (int, bool) {
	limits := []int{24, 60, 62}
	n := 0
	for part := 0; part < 3 && n < len(toks) && toks[n].kind == 'n'; part++ {
		v, _ := strconv.Atoi(toks[n].text)
		if len(toks[n].text) > 2 || v >= limits[part] {
			return 0, false
		}
		n++
		if part < 2 && n+1 < len(toks) && toks[n].kind == ':' && toks[n+1].kind == 'n' {
			n++
			continue
		}
		if part == 2 || n >= len(toks) || toks[n].kind != ':' {
			break
		}
		return 0, false
	}
	if n+1 < len(toks) && toks[n].kind == '.' && toks[n+1].kind == 'n' && n >= 5 {
		n += 2
	}
	return n, n >= 3
}

// compactDate checks YYYYMMDD[hhmm[ss]].
func compactDate(s string) bool {
	y, _ := strconv.Atoi(s[:4])
	m, _ := strconv.Atoi(s[4:6])
	d, _ := strconv.Atoi(s[6:8])
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return false
	}
	if len(s) >= 12 {
		h, _ := strconv.Atoi(s[8:10])
		mi, _ := strconv.Atoi(s[10:12])
		if h > 23 || mi > 59 {
			return false
		}
	}
	return len(s) < 14 || s[12:14] <= "61"
}

// isAMPM reports whether w is an AM/PM marker.
func isAMPM(w string) bool {
	switch strings.ToLower(w) {
	case "am", "pm", "a", "p":
		return true
	}
	return false
}

// dateWord reports whether w is a weekday, AM/PM, zone or filler word dateutil skips.
func dateWord(w string) bool {
	switch w {
	case "mon", "monday", "tue", "tues", "tuesday", "wed", "wednesday", "thu", "thur", "thurs", "thursday",
		"fri", "friday", "sat", "saturday", "sun", "sunday",
		"am", "pm", "a", "p", "t", "z", "utc", "gmt", "ut",
		"at", "on", "and", "ad", "m", "of", "st", "nd", "rd", "th":
		return true
	}
	return false
}

// validYMD reports whether the date numbers (with an optional month from a
// name) can be read as a real date in one of dateutil's orders.
func validYMD(parts []string, month int) bool {
	v := make([]int, len(parts))
	for i, p := range parts {
		v[i], _ = strconv.Atoi(p)
	}
	isYear := func(i int) bool { return len(parts[i]) >= 3 || v[i] > 31 }
	year := func(i int) int {
		if len(parts[i]) <= 2 {
			if v[i] < 50 {
				return 2000 + v[i]
			}
			return 1900 + v[i]
		}
		return v[i]
	}
	ok := func(y, m, d int) bool { return m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m) }
	if month > 0 {
		switch len(v) {
		case 0:
			return true
		case 1:
			return isYear(0) || ok(2000, month, v[0])
		case 2:
			return (!isYear(0) && ok(year(1), month, v[0])) || (!isYear(1) && ok(year(0), month, v[1]))
		}
		return false
	}
	switch len(v) {
	case 0:
		return true
	case 1:
		return isYear(0) || (v[0] >= 1 && v[0] <= 31)
	case 2:
		if isYear(0) || isYear(1) {
			y, m := 0, 1
			if isYear(1) {
				y, m = 1, 0
			}
			return !isYear(m) && v[m] >= 1 && v[m] <= 12 && year(y) > 0
		}
		return ok(2000, v[0], v[1]) || ok(2000, v[1], v[0])
	}
	if isYear(0) && len(parts[0]) >= 3 || v[0] > 31 {
		return ok(year(0), v[1], v[2]) || ok(year(0), v[2], v[1])
	}
	return ok(year(2), v[0], v[1]) || ok(year(2), v[1], v[0]) || ok(year(0), v[1], v[2])
}

func compileDateutil(c Config) (Expectation, error) {
	return newColMap(c, nullsSkipped, func(*kwargs) func(any) bool {
		return func(v any) bool {
			s, ok := v.(string)
			return ok && dateutilParseable(s)
		}
	})
}
