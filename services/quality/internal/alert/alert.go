package alert

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Severities.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// Alert kinds.
const (
	KindPipeline    = "pipeline"
	KindSLA         = "sla"
	KindQuality     = "quality"
	KindPerformance = "performance"
)

// Webhook services a Route can post to.
const (
	ServiceSlack = "slack"
	ServiceTeams = "teams"
)

var (
	// ErrInvalidAlert is returned by Send for an alert with a missing title or
	// an unknown severity or kind.
	ErrInvalidAlert = errors.New("invalid alert")
	// ErrInvalidRoute is returned by New for a route that cannot be used.
	ErrInvalidRoute = errors.New("invalid route")
	// ErrNoRoute is returned by Send when no route takes the alert.
	ErrNoRoute = errors.New("no route for alert")
	// ErrQueueFull is returned by Send when a route's queue has no room.
	ErrQueueFull = errors.New("alert queue full")
	// ErrClosed is returned by Send and Run once Run has stopped.
	ErrClosed = errors.New("notifier closed")
	// ErrRunning is returned by a second call to Run.
	ErrRunning = errors.New("notifier already running")
	// ErrDrainTimeout is returned by Run when queued alerts were still
	// undelivered at the end of Options.DrainTimeout.
	ErrDrainTimeout = errors.New("alert drain timed out")
	// ErrDelivery wraps every failed webhook post.
	ErrDelivery = errors.New("alert delivery failed")
)

var (
	severities = []string{SeverityCritical, SeverityWarning, SeverityInfo}
	kinds      = []string{KindPipeline, KindSLA, KindQuality, KindPerformance}
)

// Alert is one notification.
type Alert struct {
	Severity string            // critical, warning or info
	Kind     string            // pipeline, sla, quality or performance
	Title    string            // one line, required
	Text     string            // body; Slack mrkdwn / Teams markdown
	Fields   map[string]string // shown as name/value pairs, sorted by name
	Key      string            // de-duplication key; "" means kind, severity and title
}

// Validate reports what is wrong with a, wrapping ErrInvalidAlert.
func (a Alert) Validate() error {
	var errs []error
	if strings.TrimSpace(a.Title) == "" {
		errs = append(errs, errors.New("title is empty"))
	}
	if !slices.Contains(severities, a.Severity) {
		errs = append(errs, fmt.Errorf("severity %q is not one of %s", a.Severity, strings.Join(severities, ", ")))
	}
	if !slices.Contains(kinds, a.Kind) {
		errs = append(errs, fmt.Errorf("kind %q is not one of %s", a.Kind, strings.Join(kinds, ", ")))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidAlert, errors.Join(errs...))
	}
	return nil
}

// dedupeKey is a.Key, or kind, severity and title when a.Key is empty.
func (a Alert) dedupeKey() string {
	if a.Key != "" {
		return a.Key
	}
	return a.Kind + "\x00" + a.Severity + "\x00" + a.Title
}

// Route is one webhook and the alerts it takes.
type Route struct {
	Name       string   // unique; the metrics' route label
	Kind       string   // webhook service: slack or teams
	URL        string   // incoming-webhook URL (http or https)
	Severities []string // severities taken; empty means all
	Kinds      []string // alert kinds taken; empty means all
}

// validate reports every problem with r, naming it.
func (r Route) validate() []error {
	name := r.Name
	if name == "" {
		name = "(unnamed)"
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("route %s: %w: %s", name, ErrInvalidRoute, fmt.Sprintf(format, args...)))
	}
	if r.Name == "" {
		bad("name is empty")
	}
	if r.Kind != ServiceSlack && r.Kind != ServiceTeams {
		bad("kind %q is not slack or teams", r.Kind)
	}
	if u, err := url.Parse(r.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("url is not an absolute http(s) URL")
	}
	for _, s := range r.Severities {
		if !slices.Contains(severities, s) {
			bad("severity %q is not one of %s", s, strings.Join(severities, ", "))
		}
	}
	for _, k := range r.Kinds {
		if !slices.Contains(kinds, k) {
			bad("alert kind %q is not one of %s", k, strings.Join(kinds, ", "))
		}
	}
	return errs
}

// matches reports whether r takes a.
func (r Route) matches(a Alert) bool {
	return (len(r.Severities) == 0 || slices.Contains(r.Severities, a.Severity)) &&
		(len(r.Kinds) == 0 || slices.Contains(r.Kinds, a.Kind))
}

// Channels are the webhook URLs of the default routing; an empty URL leaves
// its route out.
type Channels struct {
	SlackCritical string // Slack: pipeline alerts and SLA breaches of severity critical
	Stewards      string // data stewards: quality alerts of any severity
	StewardsKind  string // slack (default) or teams, the service behind Stewards
	TeamsDevOps   string // Teams: performance alerts of any severity
}

// DefaultRoutes returns the routing of the platform design: "Pipeline
// failures → Slack crítico; Qualidade de dados → stewards; Performance
// degradada → Teams para DevOps". Pipeline and SLA alerts below critical
// match no default route.
func DefaultRoutes(c Channels) []Route {
	var rs []Route
	if c.SlackCritical != "" {
		rs = append(rs, Route{Name: "critical", Kind: ServiceSlack, URL: c.SlackCritical,
			Severities: []string{SeverityCritical}, Kinds: []string{KindPipeline, KindSLA}})
	}
	if c.Stewards != "" {
		kind := c.StewardsKind
		if kind == "" {
			kind = ServiceSlack
		}
		rs = append(rs, Route{Name: "stewards", Kind: kind, URL: c.Stewards, Kinds: []string{KindQuality}})
	}
	if c.TeamsDevOps != "" {
		rs = append(rs, Route{Name: "devops", Kind: ServiceTeams, URL: c.TeamsDevOps, Kinds: []string{KindPerformance}})
	}
	return rs
}
