package access

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func loadTestPolicy(t *testing.T) *Policy {
	t.Helper()
	data, err := os.ReadFile("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePolicy("testdata/policy.yaml", data, env(map[string]string{"RIACHO_METRICS_TOKEN_OPS": " ops-token\n"}))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParsePolicyExample(t *testing.T) {
	p := loadTestPolicy(t)
	if got := strings.Join(p.Clients(), ","); got != "bi-dashboard,ops-cli,marketing-app,spiffe-job,dns-job" {
		t.Errorf("clients %s", got)
	}
	if p.Anonymous() {
		t.Error("anonymous by default")
	}
	if len(p.roles) != 3 || p.roles["marketing"].maxRows != 10000 || p.roles["sales"].allowDims == nil || p.roles["marketing"].allowDims != nil {
		t.Errorf("roles %+v", p.roles)
	}
	if c := p.clients[2]; c.subject != (certSubject{"CN", "marketing-app"}) || c.hasToken {
		t.Errorf("marketing-app %+v", c)
	}
	if c := p.clients[3]; c.subject != (certSubject{"URI", "spiffe://riacho.test/jobs/report"}) {
		t.Errorf("spiffe-job %+v", c)
	}
}

func TestLoadPolicy(t *testing.T) {
	t.Setenv("RIACHO_METRICS_TOKEN_OPS", "from-the-environment")
	p, err := LoadPolicy("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if pr, err := p.bearer([]string{"Bearer from-the-environment"}); err != nil || pr.Name != "ops-cli" {
		t.Errorf("token_env token: %+v %v", pr, err)
	}
	if _, err := LoadPolicy(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

func TestParsePolicyTypo(t *testing.T) {
	data, err := os.ReadFile("testdata/typo_client_key.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParsePolicy("testdata/typo_client_key.yaml", data, env(map[string]string{"RIACHO_METRICS_TOKEN_BI": "x"}))
	if err == nil || !strings.Contains(err.Error(), `testdata/typo_client_key.yaml:5:5: client: unknown key "role"`) || !errors.Is(err, ErrInvalidPolicy) {
		t.Errorf("err = %v", err)
	}
}

func TestParsePolicyErrors(t *testing.T) {
	const roles = "roles:\n  - name: r\n    metrics: ['*']\n"
	const tok = "    token_env: T\n    roles: [r]\n"
	secret := "s3cr3t-token-value"
	getenv := env(map[string]string{"T": secret, "T2": secret})
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"empty", "", "empty policy"},
		{"not yaml", "version: [1", "parse yaml"},
		{"not a mapping", "- 1", "f.yaml:1:1: policy must be a mapping"},
		{"no version", "clients:\n  - name: a\n" + tok + roles, "f.yaml:1:1: version: required"},
		{"bad version", "version: 2\n" + roles + "anonymous: true\nanonymous_roles: [r]\n", `f.yaml:1:10: version: unsupported version "2"`},
		{"unknown top key", "version: 1\nanonymus: true\n" + roles, `f.yaml:2:1: policy: unknown key "anonymus"`},
		{"repeated key", "version: 1\nversion: 1\n", `f.yaml:2:1: policy: key "version" repeated`},
		{"no clients", "version: 1\n" + roles, "no clients"},
		{"unknown role key", "version: 1\nanonymous: true\nanonymous_roles: [r]\nroles:\n  - name: r\n    metric: ['*']\n", `f.yaml:6:5: role: unknown key "metric"`},
		{"role without metrics", "version: 1\nanonymous: true\nanonymous_roles: [r]\nroles:\n  - name: r\n", "f.yaml:5:5: role r: metrics required"},
		{"empty metrics", "version: 1\nanonymous: true\nanonymous_roles: [r]\nroles:\n  - name: r\n    metrics: []\n", "empty list grants nothing"},
		{"allow and deny", "version: 1\nanonymous: true\nanonymous_roles: [r]\nroles:\n  - name: r\n    metrics: ['*']\n    allow_dimensions: [a]\n    deny_dimensions: [b]\n", "f.yaml:8:22: role r: allow_dimensions and deny_dimensions exclude each other"},
		{"name after the bad key", "version: 1\nanonymous: true\nanonymous_roles: [r]\nroles:\n  - metrics: []\n    name: r\n", "f.yaml:5:14: role r: metrics: empty list grants nothing"},
		{"bad max_rows", "version: 1\nanonymous: true\nanonymous_roles: [r]\nroles:\n  - name: r\n    metrics: ['*']\n    max_rows: -3\n", "f.yaml:7:15: role r: max_rows must be a positive integer"},
		{"duplicate role", "version: 1\nanonymous: true\nanonymous_roles: [r]\n" + roles + "  - name: r\n    metrics: [x]\n", `f.yaml:7:5: role "r": defined twice`},
		{"role name", "version: 1\nanonymous: true\nanonymous_roles: [r]\n" + roles + "  - name: 'a b'\n    metrics: [x]\n", `role "a b": name must be`},
		{"empty glob", "version: 1\nanonymous: true\nanonymous_roles: [r]\nroles:\n  - name: r\n    metrics: ['']\n", "f.yaml:6:15: role r: metrics entry is empty"},
		{"unknown client role", "version: 1\nclients:\n  - name: a\n    token_env: T\n    roles: [r, nope]\n" + roles, `f.yaml:5:16: client a: unknown role "nope"`},
		{"client without roles", "version: 1\nclients:\n  - name: a\n    token_env: T\n" + roles, "f.yaml:3:5: client a: roles required"},
		{"client without credential", "version: 1\nclients:\n  - name: a\n    roles: [r]\n" + roles, "client a: needs token_sha256, token_env or cert_subject"},
		{"unset env", "version: 1\nclients:\n  - name: a\n    token_env: UNSET\n    roles: [r]\n" + roles, "f.yaml:4:16: client a: token_env: environment variable UNSET is unset or empty"},
		{"both token kinds", "version: 1\nclients:\n  - name: a\n    token_env: T\n    token_sha256: '" + strings.Repeat("ab", 32) + "'\n    roles: [r]\n" + roles, "token_sha256 and token_env exclude each other"},
		{"short sha", "version: 1\nclients:\n  - name: a\n    token_sha256: abc\n    roles: [r]\n" + roles, "f.yaml:4:19: client a: token_sha256 must be 64 hex digits"},
		{"same token", "version: 1\nclients:\n  - name: a\n" + tok + "  - name: b\n    token_env: T2\n    roles: [r]\n" + roles, "client b: same token as client a"},
		{"duplicate client", "version: 1\nclients:\n  - name: a\n" + tok + "  - name: a\n    cert_subject: CN=a\n    roles: [r]\n" + roles, `client "a": defined twice`},
		{"bad subject", "version: 1\nclients:\n  - name: a\n    cert_subject: O=acme\n    roles: [r]\n" + roles, "f.yaml:4:19: client a: cert_subject: \"O=acme\": want CN=<name>"},
		{"full DN", "version: 1\nclients:\n  - name: a\n    cert_subject: 'CN=a,O=acme'\n    roles: [r]\n" + roles, "only the common name is matched"},
		{"same subject", "version: 1\nclients:\n  - name: a\n    cert_subject: CN=x\n    roles: [r]\n  - name: b\n    cert_subject: CN=x\n    roles: [r]\n" + roles, "client b: same cert_subject (CN=x) as client a"},
		{"anonymous without roles", "version: 1\nanonymous: true\n" + roles, "anonymous: true needs anonymous_roles"},
		{"anonymous roles without anonymous", "version: 1\nclients:\n  - name: a\n" + tok + "anonymous_roles: [r]\n" + roles, "f.yaml:6:18: anonymous_roles: set but anonymous is not true"},
		{"anonymous unknown role", "version: 1\nanonymous: true\nanonymous_roles: [x]\n" + roles, `f.yaml:3:19: anonymous_roles: unknown role "x"`},
		{"anonymous not bool", "version: 1\nanonymous: maybe\nanonymous_roles: [r]\n" + roles, "f.yaml:2:12: anonymous must be true or false"},
		{"clients not list", "version: 1\nclients: {a: 1}\n" + roles, "f.yaml:2:10: clients must be a list"},
		{"client not mapping", "version: 1\nclients: [a]\n" + roles, "f.yaml:2:11: client must be a mapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePolicy("f.yaml", []byte(tc.yaml), getenv)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.want)
			}
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Errorf("err does not wrap ErrInvalidPolicy: %v", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error reveals a token: %v", err)
			}
		})
	}
}

func TestParsePolicyAnonymous(t *testing.T) {
	p, err := ParsePolicy("f.yaml", []byte("version: 1\nanonymous: true\nanonymous_roles: [public]\nroles:\n  - name: public\n    metrics: [mrr]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Anonymous() || !slices.Equal(p.anonymousRoles, []string{"public"}) || len(p.Clients()) != 0 {
		t.Errorf("policy %+v", p)
	}
}

// FuzzParsePolicy checks that no input panics and that every accepted policy
// is consistent: roles referenced exist, and tokens and subjects are unique.
func FuzzParsePolicy(f *testing.F) {
	for _, name := range []string{"testdata/policy.yaml", "testdata/typo_client_key.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("version: 1\nanonymous: true\nanonymous_roles: [r]\nroles:\n  - {name: r, metrics: ['*'], max_rows: 5}\n"))
	f.Add([]byte("version: 1\nclients:\n  - {name: a, cert_subject: 'DNS:x', roles: [r]}\nroles:\n  - {name: r, metrics: ['*'], allow_dimensions: []}\n"))
	f.Add([]byte("{version: 1, clients: [{name: &a a, roles: [*a]}]}"))
	getenv := env(map[string]string{"RIACHO_METRICS_TOKEN_OPS": "t", "RIACHO_METRICS_TOKEN_BI": "u"})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy("fuzz.yaml", data, getenv)
		if err != nil {
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("error does not wrap ErrInvalidPolicy: %v", err)
			}
			return
		}
		if len(p.clients) == 0 && !p.anonymous {
			t.Fatal("accepted a policy that refuses every call")
		}
		for i, c := range p.clients {
			if len(c.roles) == 0 || (!c.hasToken && c.subject.kind == "") {
				t.Fatalf("client %+v accepted without roles or credential", c)
			}
			for _, r := range c.roles {
				if p.roles[r] == nil {
					t.Fatalf("client %s has unknown role %q", c.name, r)
				}
			}
			for _, o := range p.clients[:i] {
				if (c.hasToken && o.hasToken && c.digest == o.digest) || (c.subject.kind != "" && c.subject == o.subject) {
					t.Fatalf("clients %s and %s share a credential", o.name, c.name)
				}
			}
		}
		for _, r := range p.roles {
			if len(r.metrics) == 0 || (r.allowDims != nil && len(r.denyDims) > 0) || r.maxRows < 0 {
				t.Fatalf("role %+v accepted", r)
			}
		}
		// Authorizing anything must not panic.
		for _, c := range p.clients {
			pr := Principal{Name: c.name, Roles: c.roles}
			_ = p.Authorize(pr, []string{"mrr"}, []string{"customer_id"}, []string{"region"})
			_ = p.MaxRows(pr)
		}
	})
}
