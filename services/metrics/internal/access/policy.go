package access

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Authentication methods reported in Principal.Method.
const (
	MethodBearer    = "bearer"
	MethodMTLS      = "mtls"
	MethodAnonymous = "anonymous"
)

// AnonymousName is the Principal name of unauthenticated callers when the
// policy admits them.
const AnonymousName = "anonymous"

// Principal is an authenticated caller.
type Principal struct {
	// Name is the client's name in the policy (never its token).
	Name string
	// Roles are the client's roles; their grants are united.
	Roles []string
	// Method is how the caller authenticated: bearer, mtls or anonymous.
	Method string
}

// Policy is a parsed access policy. It is immutable and safe for concurrent use.
type Policy struct {
	anonymous      bool
	anonymousRoles []string
	clients        []client
	roles          map[string]*role
}

// client is one entry of the clients list.
type client struct {
	name     string
	hasToken bool
	digest   [sha256.Size]byte
	subject  certSubject
	roles    []string
}

// role is one entry of the roles list.
type role struct {
	name      string
	metrics   []string
	allowDims []string // nil: every dimension not denied
	denyDims  []string
	maxRows   int // 0: no limit
}

// AllowAll returns a policy that admits every caller anonymously and lets it
// query every metric by every dimension, for insecure development setups.
func AllowAll() *Policy {
	return &Policy{
		anonymous:      true,
		anonymousRoles: []string{"all"},
		roles:          map[string]*role{"all": {name: "all", metrics: []string{"*"}}},
	}
}

// Anonymous reports whether unauthenticated calls are admitted.
func (p *Policy) Anonymous() bool { return p.anonymous }

// Clients returns the names of the clients the policy knows, in file order.
func (p *Policy) Clients() []string {
	out := make([]string, len(p.clients))
	for i, c := range p.clients {
		out[i] = c.name
	}
	return out
}

// rolesOf returns the principal's roles known to the policy.
func (p *Policy) rolesOf(pr Principal) []*role {
	var out []*role
	for _, name := range pr.Roles {
		if r, ok := p.roles[name]; ok {
			out = append(out, r)
		}
	}
	return out
}

// Visible reports whether the principal may query metric at all (for
// ListMetrics and GetMetric).
func (p *Policy) Visible(pr Principal, metric string) bool {
	for _, r := range p.rolesOf(pr) {
		if matchAny(r.metrics, metric) {
			return true
		}
	}
	return false
}

// MaxRows is the largest number of rows the principal may receive from one
// query, 0 for no limit. Roles are united: the most generous role wins, and a
// role without max_rows means no limit.
func (p *Policy) MaxRows(pr Principal) int {
	roles := p.rolesOf(pr)
	if len(roles) == 0 {
		return 0
	}
	best := 0
	for _, r := range roles {
		if r.maxRows == 0 {
			return 0
		}
		best = max(best, r.maxRows)
	}
	return best
}

// allowsDimension reports whether r lets a dimension (or filter field) be used.
func (r *role) allowsDimension(dim string) bool {
	if r.allowDims != nil {
		return matchAny(r.allowDims, dim)
	}
	return !matchAny(r.denyDims, dim)
}

// Authorize checks that the principal may query every metric, grouped by
// every dimension and filtered on every filter field. A metric is allowed by
// any of the principal's roles; a dimension or filter field of a metric is
// allowed when one of the roles that allow the metric allows it too. A filter
// field naming one of the queried metrics (a filter on the metric's value) is
// not checked as a dimension. The error is a PermissionDenied status naming
// every refused metric and dimension.
func (p *Policy) Authorize(pr Principal, metrics, dimensions, filterFields []string) error {
	var refused []string
	for _, m := range metrics {
		var granting []*role
		for _, r := range p.rolesOf(pr) {
			if matchAny(r.metrics, m) {
				granting = append(granting, r)
			}
		}
		if len(granting) == 0 {
			refused = append(refused, fmt.Sprintf("client %s may not query metric %q", pr.Name, m))
			continue
		}
		allowed := func(dim string) bool {
			return slices.ContainsFunc(granting, func(r *role) bool { return r.allowsDimension(dim) })
		}
		for _, d := range dimensions {
			if !allowed(d) {
				refused = append(refused, fmt.Sprintf("client %s may not query dimension %q of metric %s", pr.Name, d, m))
			}
		}
		for _, f := range filterFields {
			if !slices.Contains(metrics, f) && !allowed(f) {
				refused = append(refused, fmt.Sprintf("client %s may not filter metric %s by %q", pr.Name, m, f))
			}
		}
	}
	if len(refused) == 0 {
		return nil
	}
	refused = slices.Compact(refused)
	return status.Error(codes.PermissionDenied, strings.Join(refused, "; "))
}

// matchAny reports whether any glob matches s.
func matchAny(globs []string, s string) bool {
	for _, g := range globs {
		if globMatch(g, s) {
			return true
		}
	}
	return false
}

// globMatch matches s against pattern, where * stands for any run of
// characters (dots included) and every other character for itself.
func globMatch(pattern, s string) bool {
	// Iterative matcher with single-star backtracking: linear in practice.
	px, sx := 0, 0
	star, mark := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && pattern[px] == '*':
			star, mark = px, sx
			px++
		case px < len(pattern) && pattern[px] == s[sx]:
			px++
			sx++
		case star >= 0:
			px = star + 1
			mark++
			sx = mark
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}
