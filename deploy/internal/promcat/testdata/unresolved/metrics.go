// Package unresolved names a metric with a value the scanner cannot know.
package unresolved

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

var c = prometheus.NewCounter(prometheus.CounterOpts{Name: strings.ToLower("RIACHO_X_TOTAL")})
