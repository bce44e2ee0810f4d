package access

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrInvalidPolicy marks every error about the content of a policy file.
var ErrInvalidPolicy = errors.New("invalid access policy")

var nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$`)

// LoadPolicy reads and parses a policy file; token_env entries are read from
// the process environment.
func LoadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read access policy: %w", err)
	}
	return ParsePolicy(path, data, os.Getenv)
}

// ParsePolicy parses a policy file's content; file names it in errors, which
// carry file:line:col and wrap ErrInvalidPolicy. getenv (os.Getenv when nil)
// resolves token_env entries. The format:
//
//	version: 1
//	clients:
//	  - name: bi-dashboard
//	    token_sha256: "<hex SHA-256 of the bearer token>"  # or token_env: VAR
//	    roles: [finance]
//	  - name: marketing-app
//	    cert_subject: "CN=marketing-app"  # or URI:spiffe://…, a bare spiffe://…, DNS:host
//	    roles: [marketing]
//	roles:
//	  - name: finance
//	    metrics: ["*"]
//	  - name: marketing
//	    metrics: ["mrr", "leads_*"]
//	    deny_dimensions: ["customer_id", "dim_customers.*"]  # or allow_dimensions
//	    max_rows: 10000
//	anonymous: false          # true admits unauthenticated calls…
//	anonymous_roles: []       # …with these roles (required then)
//
// Globs use * for any run of characters; every other character is literal.
// Unknown keys are errors.
func ParsePolicy(file string, data []byte, getenv func(string) string) (*Policy, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: parse yaml: %w: %w", file, err, ErrInvalidPolicy)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty policy (want version: 1, clients and roles): %w", file, ErrInvalidPolicy)
	}
	ps := &policyParser{file: file, getenv: getenv}
	pol := ps.policy(doc.Content[0])
	if err := errors.Join(ps.errs...); err != nil {
		return nil, err
	}
	return pol, nil
}

// policyParser accumulates the errors of one file.
type policyParser struct {
	file   string
	getenv func(string) string
	errs   []error
}

// fail records "file:line:col: message".
func (p *policyParser) fail(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s:%d:%d: %s: %w", p.file, n.Line, n.Column, fmt.Sprintf(format, args...), ErrInvalidPolicy))
}

// fields walks a mapping, calling set for each known key and failing on
// unknown or repeated ones. It returns false when n is not a mapping.
func (p *policyParser) fields(n *yaml.Node, what string, known []string, set func(key string, k, v *yaml.Node)) bool {
	if n.Kind != yaml.MappingNode {
		p.fail(n, "%s must be a mapping", what)
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(known, k.Value):
			p.fail(k, "%s: unknown key %q (known: %s)", what, k.Value, strings.Join(known, ", "))
		case seen[k.Value]:
			p.fail(k, "%s: key %q repeated", what, k.Value)
		default:
			seen[k.Value] = true
			set(k.Value, k, v)
		}
	}
	return true
}

// str decodes a scalar string.
func (p *policyParser) str(n *yaml.Node, what string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.fail(n, "%s must be a string", what)
		return ""
	}
	return n.Value
}

// strs decodes a list of non-empty strings.
func (p *policyParser) strs(n *yaml.Node, what string) []string {
	if n.Kind != yaml.SequenceNode {
		p.fail(n, "%s must be a list of strings", what)
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		s := p.str(item, what+" entry")
		if item.Kind == yaml.ScalarNode && strings.TrimSpace(s) == "" {
			p.fail(item, "%s entry is empty", what)
			continue
		}
		out = append(out, s)
	}
	return out
}

// scalarAt returns the scalar value of key in mapping n, or "" (so that
// errors about earlier keys can name their item).
func scalarAt(n *yaml.Node, key string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// policy decodes the top-level mapping.
func (p *policyParser) policy(root *yaml.Node) *Policy {
	pol := &Policy{roles: map[string]*role{}}
	var clientsNode, rolesNode, anonRolesNode, versionNode *yaml.Node
	ok := p.fields(root, "policy", []string{"version", "clients", "roles", "anonymous", "anonymous_roles"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "version":
			versionNode = v
			if v.Kind != yaml.ScalarNode || v.Value != "1" {
				p.fail(v, "version: unsupported version %q (want 1)", v.Value)
			}
		case "clients":
			clientsNode = v
		case "roles":
			rolesNode = v
		case "anonymous":
			b, err := strconv.ParseBool(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil {
				p.fail(v, "anonymous must be true or false")
			}
			pol.anonymous = b
		case "anonymous_roles":
			anonRolesNode = v
			pol.anonymousRoles = p.strs(v, "anonymous_roles")
		}
	})
	if !ok {
		return pol
	}
	if versionNode == nil {
		p.fail(root, "version: required (version: 1)")
	}
	if rolesNode != nil {
		p.roles(rolesNode, pol)
	}
	if clientsNode != nil {
		p.clients(clientsNode, pol)
	}
	switch {
	case pol.anonymous && len(pol.anonymousRoles) == 0:
		p.fail(root, "anonymous: true needs anonymous_roles (the roles unauthenticated callers get)")
	case !pol.anonymous && anonRolesNode != nil:
		p.fail(anonRolesNode, "anonymous_roles: set but anonymous is not true")
	}
	for i, r := range pol.anonymousRoles {
		if _, ok := pol.roles[r]; !ok {
			p.fail(anonRolesNode.Content[i], "anonymous_roles: unknown role %q", r)
		}
	}
	if len(pol.clients) == 0 && !pol.anonymous {
		p.fail(root, "no clients: every call would be refused (add clients, or anonymous: true with anonymous_roles)")
	}
	return pol
}

// roles decodes the roles list.
func (p *policyParser) roles(n *yaml.Node, pol *Policy) {
	if n.Kind != yaml.SequenceNode {
		p.fail(n, "roles must be a list")
		return
	}
	for _, item := range n.Content {
		r := &role{name: scalarAt(item, "name")}
		var allowNode, denyNode *yaml.Node
		seenMetrics := false
		if !p.fields(item, "role", []string{"name", "metrics", "allow_dimensions", "deny_dimensions", "max_rows"}, func(key string, _, v *yaml.Node) {
			what := "role " + r.name + ": " + key
			switch key {
			case "name":
				r.name = p.str(v, "role name")
			case "metrics":
				seenMetrics = true
				if r.metrics = p.strs(v, what); len(r.metrics) == 0 && v.Kind == yaml.SequenceNode {
					p.fail(v, "%s: empty list grants nothing", what)
				}
			case "allow_dimensions":
				allowNode = v
				r.allowDims = p.strs(v, what)
				if r.allowDims == nil {
					r.allowDims = []string{}
				}
			case "deny_dimensions":
				denyNode = v
				r.denyDims = p.strs(v, what)
			case "max_rows":
				n, err := strconv.Atoi(v.Value)
				if v.Kind != yaml.ScalarNode || err != nil || n <= 0 {
					p.fail(v, "%s must be a positive integer (leave it out for no limit)", what)
				}
				r.maxRows = max(n, 0)
			}
		}) {
			continue
		}
		switch {
		case r.name == "":
			p.fail(item, "role: name required")
			continue
		case !nameRe.MatchString(r.name):
			p.fail(item, "role %q: name must be letters, digits, '.', '_', '@' or '-'", r.name)
		case pol.roles[r.name] != nil:
			p.fail(item, "role %q: defined twice", r.name)
			continue
		}
		if !seenMetrics {
			p.fail(item, "role %s: metrics required (globs over metric names, \"*\" for all)", r.name)
		}
		if allowNode != nil && denyNode != nil {
			p.fail(denyNode, "role %s: allow_dimensions and deny_dimensions exclude each other", r.name)
		}
		pol.roles[r.name] = r
	}
}

// clients decodes the clients list; roles must be parsed first.
func (p *policyParser) clients(n *yaml.Node, pol *Policy) {
	if n.Kind != yaml.SequenceNode {
		p.fail(n, "clients must be a list")
		return
	}
	names := map[string]bool{}
	for _, item := range n.Content {
		c := client{name: scalarAt(item, "name")}
		var shaNode, envNode, subjNode, rolesNode *yaml.Node
		if !p.fields(item, "client", []string{"name", "token_sha256", "token_env", "cert_subject", "roles"}, func(key string, _, v *yaml.Node) {
			switch key {
			case "name":
				c.name = p.str(v, "client name")
			case "token_sha256":
				shaNode = v
			case "token_env":
				envNode = v
			case "cert_subject":
				subjNode = v
			case "roles":
				rolesNode = v
				c.roles = p.strs(v, "client "+c.name+": roles")
			}
		}) {
			continue
		}
		switch {
		case c.name == "":
			p.fail(item, "client: name required")
			continue
		case !nameRe.MatchString(c.name):
			p.fail(item, "client %q: name must be letters, digits, '.', '_', '@' or '-'", c.name)
		case names[c.name]:
			p.fail(item, "client %q: defined twice", c.name)
		}
		names[c.name] = true
		p.credential(item, &c, shaNode, envNode, subjNode)
		if rolesNode == nil || len(c.roles) == 0 {
			p.fail(item, "client %s: roles required", c.name)
		}
		for i, r := range c.roles {
			if _, ok := pol.roles[r]; !ok && rolesNode != nil && i < len(rolesNode.Content) {
				p.fail(rolesNode.Content[i], "client %s: unknown role %q", c.name, r)
			}
		}
		for _, o := range pol.clients {
			if c.hasToken && o.hasToken && c.digest == o.digest {
				p.fail(item, "client %s: same token as client %s", c.name, o.name)
			}
			if c.subject.kind != "" && c.subject == o.subject {
				p.fail(item, "client %s: same cert_subject (%s) as client %s", c.name, c.subject, o.name)
			}
		}
		pol.clients = append(pol.clients, c)
	}
}

// credential decodes a client's token and certificate subject. Errors never
// contain token text.
func (p *policyParser) credential(item *yaml.Node, c *client, shaNode, envNode, subjNode *yaml.Node) {
	switch {
	case shaNode != nil && envNode != nil:
		p.fail(envNode, "client %s: token_sha256 and token_env exclude each other", c.name)
	case shaNode != nil:
		raw, err := hex.DecodeString(strings.TrimSpace(p.str(shaNode, "token_sha256")))
		if err != nil || len(raw) != sha256.Size {
			p.fail(shaNode, "client %s: token_sha256 must be 64 hex digits (sha256sum of the token)", c.name)
			break
		}
		c.hasToken = true
		copy(c.digest[:], raw)
	case envNode != nil:
		name := p.str(envNode, "token_env")
		if name == "" {
			p.fail(envNode, "client %s: token_env names no variable", c.name)
			break
		}
		token := strings.TrimSpace(p.getenv(name))
		if token == "" {
			p.fail(envNode, "client %s: token_env: environment variable %s is unset or empty", c.name, name)
			break
		}
		c.hasToken = true
		c.digest = sha256.Sum256([]byte(token))
	}
	if subjNode != nil {
		s, err := parseSubject(p.str(subjNode, "cert_subject"))
		if err != nil {
			p.fail(subjNode, "client %s: cert_subject: %v", c.name, err)
		}
		c.subject = s
	}
	if !c.hasToken && c.subject.kind == "" && shaNode == nil && envNode == nil && subjNode == nil {
		p.fail(item, "client %s: needs token_sha256, token_env or cert_subject", c.name)
	}
}
