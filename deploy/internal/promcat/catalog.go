package promcat

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Kind is a metric family's type, which decides the series names it exposes.
type Kind int

// The kinds of metric family.
const (
	// Untyped is a family whose type the definition does not tell (a bare
	// prometheus.Desc); it exposes its name only.
	Untyped Kind = iota
	// Counter exposes its name.
	Counter
	// Gauge exposes its name.
	Gauge
	// Histogram exposes <name>_bucket, <name>_sum and <name>_count.
	Histogram
	// Summary exposes <name>, <name>_sum and <name>_count.
	Summary
)

// String returns the kind's lower-case name.
func (k Kind) String() string {
	return [...]string{"untyped", "counter", "gauge", "histogram", "summary"}[k]
}

// Metric is one metric family a riacho service exports.
type Metric struct {
	// Name is the family name as exposed, e.g. riacho_sink_commit_seconds.
	Name string
	// Kind is the family's type.
	Kind Kind
	// Where is the definition's file:line, or the runtime source that
	// reported it.
	Where string
}

// Series returns the sample names the family exposes on /metrics.
func (m Metric) Series() []string {
	switch m.Kind {
	case Histogram:
		return []string{m.Name + "_bucket", m.Name + "_sum", m.Name + "_count"}
	case Summary:
		return []string{m.Name, m.Name + "_sum", m.Name + "_count"}
	default:
		return []string{m.Name}
	}
}

// Catalog maps every series name riacho's services expose to its family.
type Catalog struct {
	series map[string]Metric
}

// New builds a catalog of ms; a family listed twice keeps its first entry.
func New(ms []Metric) *Catalog {
	c := &Catalog{series: map[string]Metric{}}
	for _, m := range ms {
		for _, s := range m.Series() {
			if _, ok := c.series[s]; !ok {
				c.series[s] = m
			}
		}
	}
	return c
}

// PrometheusSeries are the series Prometheus records itself for every scrape
// target, which rules and dashboards may read beside the services' own.
var PrometheusSeries = []Metric{
	{Name: "up", Kind: Gauge, Where: "Prometheus, per scrape target"},
}

// Build scans the repository at root and asks the runtime collectors, and
// returns the catalog of both plus PrometheusSeries.
func Build(ctx context.Context, root string) (*Catalog, error) {
	static, err := ScanRepo(root)
	if err != nil {
		return nil, err
	}
	rt, err := Runtime(ctx)
	if err != nil {
		return nil, err
	}
	return New(slices.Concat(static, rt, PrometheusSeries)), nil
}

// Lookup returns the family that exposes series.
func (c *Catalog) Lookup(series string) (Metric, bool) {
	m, ok := c.series[series]
	return m, ok
}

// Series lists every series name, sorted.
func (c *Catalog) Series() []string {
	return slices.Sorted(maps.Keys(c.series))
}

// Check returns an error naming every metric of names that the catalog
// lacks, with where it was used.
func (c *Catalog) Check(where string, names []string) error {
	var missing []string
	for _, n := range names {
		if _, ok := c.series[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%s: metric %s is not exported by any riacho service", where, strings.Join(missing, ", "))
}
