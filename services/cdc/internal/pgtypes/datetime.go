package pgtypes

import (
	"math"
	"time"
)

// Date and time text as PostgreSQL prints it with DateStyle ISO:
//
//	date         2024-01-02, 0044-03-15 BC, 12345-01-01, infinity, -infinity
//	timestamp    2024-01-02 03:04:05.123456 [BC]
//	timestamptz  2024-01-02 03:04:05.123456+02 | -03:30 | +05:53:28 [BC]
//	time         03:04:05.123456, 24:00:00

// maxUnixMicroSec is the last Unix second whose microseconds fit in int64.
const maxUnixMicroSec = math.MaxInt64/1_000_000 - 1

// dtParser walks date/time text.
type dtParser struct {
	s   []byte
	i   int
	err string
}

func (p *dtParser) fail(msg string) {
	if p.err == "" {
		p.err = msg
	}
}

// digits reads between min and max decimal digits.
func (p *dtParser) digits(minN, maxN int) int {
	v, n := 0, 0
	for p.i < len(p.s) && n < maxN && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		v = v*10 + int(p.s[p.i]-'0')
		p.i++
		n++
	}
	if n < minN {
		p.fail("expected digits")
	}
	return v
}

func (p *dtParser) byte(c byte) {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return
	}
	p.fail("expected " + string(c))
}

func (p *dtParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// ymd reads YYYY-MM-DD (the year may have more than four digits).
func (p *dtParser) ymd() (y, m, d int) {
	y = p.digits(4, 7)
	p.byte('-')
	m = p.digits(2, 2)
	p.byte('-')
	d = p.digits(2, 2)
	return y, m, d
}

// date validates a parsed date once its era is known and returns the proleptic Gregorian
// year Go uses (1 BC is year 0; BC leap years are the astronomical ones, as in PostgreSQL).
func (p *dtParser) date(y, m, d int, bc bool) int {
	if bc {
		if y == 0 {
			p.fail("year 0 BC")
		}
		y = 1 - y
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		p.fail("date out of range")
	}
	return y
}

// hms reads HH:MM:SS[.ffffff] and returns the time of day in microseconds.
func (p *dtParser) hms(maxHour int) int64 {
	h := p.digits(2, 2)
	p.byte(':')
	mi := p.digits(2, 2)
	p.byte(':')
	s := p.digits(2, 2)
	var us int64
	if p.peek() == '.' {
		p.i++
		start := p.i
		f := p.digits(1, 6)
		for n := p.i - start; n < 6; n++ {
			f *= 10
		}
		us = int64(f)
		if c := p.peek(); c >= '0' && c <= '9' {
			p.fail("more than 6 fraction digits")
		}
	}
	if h > maxHour || mi > 59 || s > 59 || (h == 24 && (mi != 0 || s != 0 || us != 0)) {
		p.fail("time out of range")
	}
	return (int64(h)*3600+int64(mi)*60+int64(s))*1_000_000 + us
}

// offset reads +HH[:MM[:SS]] and returns seconds east of UTC.
func (p *dtParser) offset() int {
	sign := 1
	switch p.peek() {
	case '+':
	case '-':
		sign = -1
	default:
		p.fail("expected time zone offset")
		return 0
	}
	p.i++
	h := p.digits(2, 2)
	var m, s int
	if p.peek() == ':' {
		p.i++
		m = p.digits(2, 2)
		if p.peek() == ':' {
			p.i++
			s = p.digits(2, 2)
		}
	}
	if h > 15 || m > 59 || s > 59 {
		p.fail("time zone offset out of range")
	}
	return sign * (h*3600 + m*60 + s)
}

// era reads an optional " BC" and the end of the text.
func (p *dtParser) era() bool {
	bc := false
	if len(p.s)-p.i == 3 && string(p.s[p.i:]) == " BC" {
		bc = true
		p.i += 3
	}
	if p.i != len(p.s) {
		p.fail("unexpected trailing text")
	}
	return bc
}

// daysIn is the length of month m of proleptic Gregorian year y (any sign).
func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func isInfinity(text []byte) bool {
	s := string(text)
	return s == "infinity" || s == "-infinity"
}

// decodeDate parses date text into UTC midnight of that day.
func decodeDate(text []byte) (any, error) {
	if isInfinity(text) {
		return nil, notRepresentable("date", text, "infinite dates have no avro date form")
	}
	p := dtParser{s: text}
	y, m, d := p.ymd()
	y = p.date(y, m, d, p.era())
	if p.err != "" {
		return nil, malformed("date", text, p.err)
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), nil
}

func decodeTimestamp(text []byte) (any, error) { return parseTimestamp(text, false) }

func decodeTimestamptz(text []byte) (any, error) { return parseTimestamp(text, true) }

// parseTimestamp parses timestamp (wall time taken as UTC) or timestamptz text (offset
// applied) into a UTC time.Time whose Unix microseconds fit in int64.
func parseTimestamp(text []byte, tz bool) (any, error) {
	typ := "timestamp without time zone"
	if tz {
		typ = "timestamp with time zone"
	}
	if isInfinity(text) {
		return nil, notRepresentable(typ, text, "infinite timestamps have no avro timestamp form")
	}
	p := dtParser{s: text}
	y, m, d := p.ymd()
	if c := p.peek(); c == ' ' || c == 'T' {
		p.i++
	} else {
		p.fail("expected time")
	}
	us := p.hms(23)
	off := 0
	if tz {
		off = p.offset()
	}
	y = p.date(y, m, d, p.era())
	if p.err != "" {
		return nil, malformed(typ, text, p.err)
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	t = t.Add(time.Duration(us)*time.Microsecond - time.Duration(off)*time.Second)
	if sec := t.Unix(); sec > maxUnixMicroSec || sec < -maxUnixMicroSec {
		return nil, notRepresentable(typ, text, "beyond int64 microseconds since 1970")
	}
	return t, nil
}

// decodeTime parses time-of-day text ("24:00:00" included) into a duration since midnight.
func decodeTime(text []byte) (any, error) {
	p := dtParser{s: text}
	us := p.hms(24)
	if p.i != len(text) {
		p.fail("unexpected trailing text")
	}
	if p.err != "" {
		return nil, malformed("time without time zone", text, p.err)
	}
	return time.Duration(us) * time.Microsecond, nil
}
