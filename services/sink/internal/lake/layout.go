package lake

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultTemplate is the seed's layout: zone, source, Hive-style date directories, and a file
// named after the entity, the day and a sequence number.
const DefaultTemplate = "{zone}/{source}/year={yyyy}/month={mm}/day={dd}/{entity}_{yyyymmdd}_{seq}.parquet"

// Placeholders a template may use.
const (
	PlaceholderZone     = "zone"     // the lake zone, e.g. "raw"
	PlaceholderSource   = "source"   // the source name, e.g. "ploomes"
	PlaceholderEntity   = "entity"   // the entity (table) name, e.g. "leads"
	PlaceholderYear     = "yyyy"     // four-digit year of the day
	PlaceholderMonth    = "mm"       // two-digit month
	PlaceholderDay      = "dd"       // two-digit day of month
	PlaceholderDate     = "yyyymmdd" // the day as 8 digits
	PlaceholderSequence = "seq"      // the file's sequence number, zero-padded to 3 digits
)

// ErrBadTemplate is wrapped by NewLayout's errors.
var ErrBadTemplate = errors.New("invalid lake path template")

// Layout renders and parses the keys of committed data files. The zero value uses DefaultTemplate.
type Layout struct {
	template string
	parts    []part
	re       *regexp.Regexp
}

// part is a literal (name == "") or a placeholder.
type part struct {
	literal string
	name    string
}

var placeholderPattern = map[string]string{
	PlaceholderZone:     `[^/]+?`,
	PlaceholderSource:   `[^/]+?`,
	PlaceholderEntity:   `[^/]+?`,
	PlaceholderYear:     `[0-9]{4}`,
	PlaceholderMonth:    `[0-9]{2}`,
	PlaceholderDay:      `[0-9]{2}`,
	PlaceholderDate:     `[0-9]{8}`,
	PlaceholderSequence: `[0-9]{3,}`,
}

var defaultLayout = mustLayout(DefaultTemplate)

func mustLayout(t string) Layout {
	l, err := NewLayout(t)
	if err != nil {
		panic(err) // DefaultTemplate is a constant checked by tests
	}
	return l
}

// NewLayout parses and validates template. Placeholders are written {name}; an unknown
// placeholder, an unbalanced brace, an absolute or dot-segment path, or a template that does not
// identify a file uniquely (it must hold {zone}, {source}, {entity}, {seq} and the full day, as
// {yyyymmdd} or {yyyy}+{mm}+{dd}) is an error that quotes the template. The empty string selects
// DefaultTemplate.
func NewLayout(template string) (Layout, error) {
	if template == "" {
		template = DefaultTemplate
	}
	bad := func(format string, args ...any) (Layout, error) {
		return Layout{}, fmt.Errorf("%w %q: %s", ErrBadTemplate, template, fmt.Sprintf(format, args...))
	}
	var parts []part
	seen := map[string]bool{}
	rest := template
	for rest != "" {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			parts = append(parts, part{literal: rest})
			break
		}
		if rest[open] == '}' {
			return bad("unbalanced '}' at offset %d", len(template)-len(rest)+open)
		}
		if open > 0 {
			parts = append(parts, part{literal: rest[:open]})
		}
		end := strings.IndexAny(rest[open+1:], "{}")
		if end < 0 || rest[open+1+end] != '}' {
			return bad("unbalanced '{' at offset %d", len(template)-len(rest)+open)
		}
		name := rest[open+1 : open+1+end]
		if _, ok := placeholderPattern[name]; !ok {
			return bad("unknown placeholder {%s} (known: {zone} {source} {entity} {yyyy} {mm} {dd} {yyyymmdd} {seq})", name)
		}
		if n := len(parts); n > 0 && parts[n-1].name != "" {
			return bad("placeholders {%s} and {%s} need a separator between them", parts[n-1].name, name)
		}
		parts = append(parts, part{name: name})
		seen[name] = true
		rest = rest[open+1+end+1:]
	}
	if strings.HasPrefix(template, "/") {
		return bad("the path must be relative to the bucket")
	}
	for _, seg := range strings.Split(template, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return bad("empty, '.' or '..' path segment")
		}
	}
	if strings.HasPrefix(template, stagingPrefix) {
		return bad("%s is reserved for staged files", stagingPrefix)
	}
	for _, need := range []string{PlaceholderZone, PlaceholderSource, PlaceholderEntity, PlaceholderSequence} {
		if !seen[need] {
			return bad("missing placeholder {%s}", need)
		}
	}
	if !seen[PlaceholderDate] && (!seen[PlaceholderYear] || !seen[PlaceholderMonth] || !seen[PlaceholderDay]) {
		return bad("missing the day: use {yyyymmdd} or all of {yyyy}, {mm} and {dd}")
	}
	var re strings.Builder
	re.WriteString("^")
	for _, p := range parts {
		if p.name == "" {
			re.WriteString(regexp.QuoteMeta(p.literal))
			continue
		}
		re.WriteString("(" + placeholderPattern[p.name] + ")")
	}
	re.WriteString("$")
	compiled, err := regexp.Compile(re.String())
	if err != nil {
		return bad("%v", err)
	}
	return Layout{template: template, parts: parts, re: compiled}, nil
}

func (l Layout) effective() Layout {
	if l.parts == nil {
		return defaultLayout
	}
	return l
}

// Template returns the layout's template.
func (l Layout) Template() string { return l.effective().template }

// String returns the layout's template.
func (l Layout) String() string { return l.Template() }

// Path renders the key of data file seq of entity for day (taken in UTC). seq is zero-padded to
// three digits and printed in full when it needs more (1000 → "1000").
func (l Layout) Path(zone, source, entity string, day time.Time, seq int) string {
	day = day.UTC()
	var b strings.Builder
	for _, p := range l.effective().parts {
		switch p.name {
		case "":
			b.WriteString(p.literal)
		case PlaceholderZone:
			b.WriteString(zone)
		case PlaceholderSource:
			b.WriteString(source)
		case PlaceholderEntity:
			b.WriteString(entity)
		case PlaceholderYear:
			fmt.Fprintf(&b, "%04d", day.Year())
		case PlaceholderMonth:
			fmt.Fprintf(&b, "%02d", int(day.Month()))
		case PlaceholderDay:
			fmt.Fprintf(&b, "%02d", day.Day())
		case PlaceholderDate:
			b.WriteString(day.Format("20060102"))
		case PlaceholderSequence:
			fmt.Fprintf(&b, "%03d", seq)
		}
	}
	return b.String()
}

// PathInfo is what a data file key says about the file.
type PathInfo struct {
	Zone, Source, Entity string
	Day                  time.Time // UTC midnight
	Seq                  int
}

// Parse reads a key rendered by Path back. It reports false for a key the layout did not produce
// (including one whose date parts disagree or name no real day).
func (l Layout) Parse(key string) (PathInfo, bool) {
	l = l.effective()
	m := l.re.FindStringSubmatch(key)
	if m == nil {
		return PathInfo{}, false
	}
	var (
		info          PathInfo
		year, mon, dd = -1, -1, -1
		date          = ""
		seqSeen       bool
	)
	set := func(dst *string, v string) bool {
		if *dst != "" && *dst != v {
			return false
		}
		*dst = v
		return true
	}
	setInt := func(dst *int, v string) bool {
		n, err := strconv.Atoi(v)
		if err != nil || (*dst >= 0 && *dst != n) {
			return false
		}
		*dst = n
		return true
	}
	i := 1
	for _, p := range l.parts {
		if p.name == "" {
			continue
		}
		v := m[i]
		i++
		ok := true
		switch p.name {
		case PlaceholderZone:
			ok = set(&info.Zone, v)
		case PlaceholderSource:
			ok = set(&info.Source, v)
		case PlaceholderEntity:
			ok = set(&info.Entity, v)
		case PlaceholderYear:
			ok = setInt(&year, v)
		case PlaceholderMonth:
			ok = setInt(&mon, v)
		case PlaceholderDay:
			ok = setInt(&dd, v)
		case PlaceholderDate:
			ok = set(&date, v)
		case PlaceholderSequence:
			n, err := strconv.Atoi(v)
			ok = err == nil && (!seqSeen || n == info.Seq) && (len(v) == 3 || v[0] != '0')
			info.Seq, seqSeen = n, true
		}
		if !ok {
			return PathInfo{}, false
		}
	}
	if date != "" {
		d, err := time.Parse("20060102", date)
		if err != nil {
			return PathInfo{}, false
		}
		if (year >= 0 && year != d.Year()) || (mon >= 0 && mon != int(d.Month())) || (dd >= 0 && dd != d.Day()) {
			return PathInfo{}, false
		}
		info.Day = d
		return info, true
	}
	d := time.Date(year, time.Month(mon), dd, 0, 0, 0, 0, time.UTC)
	if d.Year() != year || int(d.Month()) != mon || d.Day() != dd {
		return PathInfo{}, false
	}
	info.Day = d
	return info, true
}

const stagingPrefix = "_staging/"

// StagingKey is where a not-yet-committed file lives:
// "_staging/<topic>/<partition>/<first>-<last>-<yyyymmdd>.parquet", first and last being the
// Kafka offsets of its first and last record. The name is deterministic, so a new owner of the
// partition that writes the same records writes the same key.
func StagingKey(topic string, partition int32, first, last int64, day time.Time) string {
	return fmt.Sprintf("%s%s/%d/%d-%d-%s.parquet", stagingPrefix, topic, partition, first, last, day.UTC().Format("20060102"))
}

// StagingPrefix returns the prefix under which the staged files of one topic partition live
// (for listing leftovers after a crash).
func StagingPrefix(topic string, partition int32) string {
	return fmt.Sprintf("%s%s/%d/", stagingPrefix, topic, partition)
}

// StagedName is what a StagingKey says about its file.
type StagedName struct {
	Topic       string
	Partition   int32
	First, Last int64
	Day         time.Time
}

var stagingRe = regexp.MustCompile(`^_staging/([^/]+)/([0-9]+)/([0-9]+)-([0-9]+)-([0-9]{8})\.parquet$`)

// ParseStagingKey reads a key made by StagingKey back.
func ParseStagingKey(key string) (StagedName, error) {
	m := stagingRe.FindStringSubmatch(key)
	if m == nil {
		return StagedName{}, fmt.Errorf("not a staging key: %q", key)
	}
	p, err1 := strconv.ParseInt(m[2], 10, 32)
	first, err2 := strconv.ParseInt(m[3], 10, 64)
	last, err3 := strconv.ParseInt(m[4], 10, 64)
	day, err4 := time.Parse("20060102", m[5])
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return StagedName{}, fmt.Errorf("parse staging key %q: %w", key, err)
	}
	return StagedName{Topic: m[1], Partition: int32(p), First: first, Last: last, Day: day}, nil
}
