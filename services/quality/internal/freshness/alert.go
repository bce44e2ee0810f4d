package freshness

import (
	"time"

	"github.com/riacho/riacho/services/quality/internal/alert"
)

// Alert turns b into a critical SLA alert keyed by source, for the
// notifier's critical route.
func (b Breach) Alert() alert.Alert {
	fields := map[string]string{
		"source": b.Source,
		"sla":    b.SLA.String(),
		"age":    b.Age.Round(time.Second).String(),
	}
	if b.Newest.IsZero() {
		fields["newest event"] = "none"
	} else {
		fields["newest event"] = b.Newest.UTC().Format(time.RFC3339)
	}
	return alert.Alert{
		Severity: alert.SeverityCritical,
		Kind:     alert.KindSLA,
		Title:    "freshness SLA breached: " + b.Source,
		Text:     b.String(),
		Fields:   fields,
		Key:      "freshness/" + b.Source,
	}
}
