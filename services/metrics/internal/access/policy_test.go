package access

import (
	"os"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestAuthorize(t *testing.T) {
	p := loadTestPolicy(t)
	finance := Principal{Name: "bi-dashboard", Roles: []string{"finance"}, Method: MethodBearer}
	marketing := Principal{Name: "marketing-app", Roles: []string{"marketing"}, Method: MethodMTLS}
	both := Principal{Name: "ops-cli", Roles: []string{"marketing", "sales"}, Method: MethodBearer}
	nobody := Principal{Name: "ghost", Roles: []string{"no-such-role"}}
	for _, tc := range []struct {
		name                   string
		who                    Principal
		metrics, dims, filters []string
		want                   string // "" allowed, else a substring of the PermissionDenied message
	}{
		{"finance reads revenue by customer", finance, []string{"revenue"}, []string{"customer_id"}, nil, ""},
		{"finance reads anything", finance, []string{"churn", "mrr"}, []string{"dim_customers.email"}, []string{"customer_id"}, ""},
		{"marketing reads mrr by segment", marketing, []string{"mrr"}, []string{"customer_segment"}, []string{"region"}, ""},
		{"marketing reads leads by glob", marketing, []string{"leads_won", "leads_lost"}, nil, nil, ""},
		{"marketing reads revenue in total", marketing, []string{"revenue"}, nil, nil, ""},
		{"marketing cannot read revenue by customer", marketing, []string{"revenue"}, []string{"customer_id"}, nil,
			`client marketing-app may not query dimension "customer_id" of metric revenue`},
		{"marketing cannot group by a denied glob", marketing, []string{"mrr"}, []string{"dim_customers.email"}, nil,
			`client marketing-app may not query dimension "dim_customers.email" of metric mrr`},
		{"marketing cannot filter by customer", marketing, []string{"mrr"}, nil, []string{"customer_id"},
			`client marketing-app may not filter metric mrr by "customer_id"`},
		{"marketing cannot read an ungranted metric", marketing, []string{"mrr", "churn"}, nil, nil,
			`client marketing-app may not query metric "churn"`},
		{"glob is anchored", marketing, []string{"xleads_won"}, nil, nil, `may not query metric "xleads_won"`},
		{"a filter on a queried metric is not a dimension", marketing, []string{"mrr"}, nil, []string{"mrr"}, ""},
		// Roles unite per metric: sales allows revenue by customer, marketing does not.
		{"union: sales role grants revenue by customer", both, []string{"revenue"}, []string{"customer_id"}, nil, ""},
		{"union: marketing allows what the sales allow list lacks", both, []string{"revenue"}, []string{"product"}, nil, ""},
		{"union is per metric", both, []string{"mrr"}, []string{"customer_id"}, nil,
			`may not query dimension "customer_id" of metric mrr`},
		{"unknown role grants nothing", nobody, []string{"mrr"}, nil, nil, `client ghost may not query metric "mrr"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Authorize(tc.who, tc.metrics, tc.dims, tc.filters)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if status.Code(err) != codes.PermissionDenied || !strings.Contains(status.Convert(err).Message(), tc.want) {
				t.Fatalf("err = %v, want PermissionDenied containing %q", err, tc.want)
			}
		})
	}
}

func TestAuthorizeNamesEveryRefusal(t *testing.T) {
	p := loadTestPolicy(t)
	sales := Principal{Name: "s", Roles: []string{"sales"}}
	err := p.Authorize(sales, []string{"revenue", "mrr"}, []string{"region", "product"}, []string{"channel"})
	want := `client s may not query dimension "product" of metric revenue; ` +
		`client s may not filter metric revenue by "channel"; ` +
		`client s may not query metric "mrr"`
	if got := status.Convert(err).Message(); got != want {
		t.Errorf("message\n got %s\nwant %s", got, want)
	}
}

func TestVisibleAndMaxRows(t *testing.T) {
	p := loadTestPolicy(t)
	for _, tc := range []struct {
		roles   []string
		visible string
		maxRows int
	}{
		{[]string{"finance"}, "churn,leads_new,mrr,revenue", 0},
		{[]string{"marketing"}, "leads_new,mrr,revenue", 10000},
		{[]string{"sales"}, "revenue", 50000},
		{[]string{"marketing", "sales"}, "leads_new,mrr,revenue", 50000},
		{[]string{"marketing", "finance"}, "churn,leads_new,mrr,revenue", 0},
		{nil, "", 0},
	} {
		pr := Principal{Name: "x", Roles: tc.roles}
		var vis []string
		for _, m := range []string{"churn", "leads_new", "mrr", "revenue"} {
			if p.Visible(pr, m) {
				vis = append(vis, m)
			}
		}
		if got := strings.Join(vis, ","); got != tc.visible {
			t.Errorf("roles %v see %s, want %s", tc.roles, got, tc.visible)
		}
		if got := p.MaxRows(pr); got != tc.maxRows {
			t.Errorf("roles %v max rows %d, want %d", tc.roles, got, tc.maxRows)
		}
	}
}

func TestAllowAll(t *testing.T) {
	p := AllowAll()
	pr, err := p.Authenticate(t.Context())
	if err != nil || pr.Method != MethodAnonymous || pr.Name != AnonymousName {
		t.Fatalf("Authenticate = %+v, %v", pr, err)
	}
	if err := p.Authorize(pr, []string{"revenue"}, []string{"customer_id"}, []string{"email"}); err != nil {
		t.Error(err)
	}
	if !p.Visible(pr, "anything") || p.MaxRows(pr) != 0 {
		t.Error("AllowAll limits something")
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything.at.all", true},
		{"mrr", "mrr", true},
		{"mrr", "mrr2", false},
		{"leads_*", "leads_", true},
		{"leads_*", "leads_won", true},
		{"leads_*", "lead_won", false},
		{"dim_customers.*", "dim_customers.email", true},
		{"dim_customers.*", "dim_customersXemail", false},
		{"*_id", "customer_id", true},
		{"*_id", "customer_idx", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"a**", "a", true},
		{"?", "x", false}, // only * is special
		{"[a]", "[a]", true},
	} {
		if got := globMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.pattern, tc.s, got)
		}
	}
}

func BenchmarkAuthorize(b *testing.B) {
	data, err := os.ReadFile("testdata/policy.yaml")
	if err != nil {
		b.Fatal(err)
	}
	p, err := ParsePolicy("testdata/policy.yaml", data, env(map[string]string{"RIACHO_METRICS_TOKEN_OPS": "t"}))
	if err != nil {
		b.Fatal(err)
	}
	pr := Principal{Name: "ops-cli", Roles: []string{"marketing", "sales"}}
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Authorize(pr, []string{"mrr", "leads_won"}, []string{"customer_segment", "region"}, []string{"product"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBearer(b *testing.B) {
	data, err := os.ReadFile("testdata/policy.yaml")
	if err != nil {
		b.Fatal(err)
	}
	p, err := ParsePolicy("testdata/policy.yaml", data, env(map[string]string{"RIACHO_METRICS_TOKEN_OPS": "t"}))
	if err != nil {
		b.Fatal(err)
	}
	vals := []string{"Bearer bi-secret-token"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.bearer(vals); err != nil {
			b.Fatal(err)
		}
	}
}
