// Command metricsbench measures the metrics API against the warehouse it
// reads: the architecture document's mrr by month and customer_segment over
// a PostgreSQL fact table of -rows rows, answered (1) by psql running the
// SQL the API generates (the limit), (2) by the API over gRPC without the
// cache, and (3) from the cache. Rounds alternate psql and API so both see
// the same server state. scripts/bench/metrics.sh runs it.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	metricsv1 "github.com/riacho/riacho/proto/riacho/metrics/v1"
	"github.com/riacho/riacho/services/metrics/app"
)

const token = "bench-token"

// profile is the -cpuprofile file.
var profile string

const schemaYAML = `version: 1
tables:
  - name: fct_subscriptions
    kind: fact
    topic: curated.fct_subscriptions
    key: [subscription_id]
    event_time: updated_at
    columns:
      - {name: subscription_id, type: text}
      - {name: customer_id, type: text}
      - {name: monthly_value, type: "numeric(18,2)"}
      - {name: date_month, type: date}
      - {name: customer_segment, type: text}
      - {name: product_category, type: text}
      - {name: is_active, type: boolean}
      - {name: updated_at, type: timestamp}
`

const policyYAML = `version: 1
clients:
  - name: bench
    token_env: METRICSBENCH_TOKEN
    roles: [all]
roles:
  - name: all
    metrics: ["*"]
`

func main() {
	admin := flag.String("pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server (administrative database)")
	db := flag.String("db", "riacho_bench_metrics", "database to create and fill (kept between runs)")
	rows := flag.Int("rows", 10_000_000, "fact rows")
	n := flag.Int("n", 60, "uncached queries per path (psql and API)")
	cached := flag.Int("cached", 5000, "cached queries")
	rounds := flag.Int("rounds", 3, "alternating psql/API rounds")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the cached queries to this file")
	seed := flag.String("seed-mrr", "services/metrics/internal/metricdef/testdata/mrr.yml", "the seed's mrr.yml")
	flag.Parse()
	profile = *cpuprofile
	if err := run(*admin, *db, *rows, *n, *cached, *rounds, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "metricsbench:", err)
		os.Exit(1)
	}
}

func run(admin, db string, rows, n, cached, rounds int, seedMRR string) error {
	ctx := context.Background()
	dsn, err := prepare(ctx, admin, db, rows)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "metricsbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	seed, err := os.ReadFile(seedMRR)
	if err != nil {
		return fmt.Errorf("the seed's mrr.yml (run from the repository root): %w", err)
	}
	for name, body := range map[string]string{"warehouse.yml": schemaYAML, "access.yml": policyYAML, "models/metrics/mrr.yml": string(seed)} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			return err
		}
	}
	cfg, err := app.LoadConfig(ctx, []string{
		"RIACHO_CONTROL_ADDR=127.0.0.1:0", "RIACHO_CONTROL_INSECURE=true", "RIACHO_METRICS_HTTP_ADDR=",
		"RIACHO_METRICS_OPS_ADDR=127.0.0.1:0", "RIACHO_METRICS_LOADER=false", "RIACHO_METRICS_WAREHOUSE=" + dsn,
		"RIACHO_METRICS_SCHEMA=" + filepath.Join(dir, "warehouse.yml"),
		"RIACHO_METRICS_DEFINITIONS=" + filepath.Join(dir, "models", "metrics"),
		"RIACHO_METRICS_POLICY=" + filepath.Join(dir, "access.yml"),
	})
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	svc, err := app.New(sctx, cfg, app.Deps{Logger: slog.New(slog.DiscardHandler), Audit: io.Discard,
		Getenv: func(k string) string {
			if k == "METRICSBENCH_TOKEN" {
				return token
			}
			return ""
		}})
	if err != nil {
		return err
	}
	go func() { _ = svc.Run(sctx) }()
	conn, err := grpc.NewClient(svc.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	cli := metricsv1.NewMetricsServiceClient(conn)
	qctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	req := &metricsv1.QueryRequest{Metrics: []string{"mrr"}, Grain: "month", Dimensions: []string{"customer_segment"}}
	ex, err := cli.Explain(qctx, req)
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	sql := inline(ex.GetSql(), ex.GetArgs())
	fmt.Printf("SQL (%d rows in fct_subscriptions):\n%s\n\n", rows, sql)

	uncached := &metricsv1.QueryRequest{Metrics: req.Metrics, Grain: req.Grain, Dimensions: req.Dimensions, NoCache: true}
	var psqlTimes, apiTimes []time.Duration
	var answerRows int
	per := max(1, n/rounds)
	for r := range rounds {
		pt, err := psql(dsn, sql, per)
		if err != nil {
			return err
		}
		psqlTimes = append(psqlTimes, pt...)
		for range per {
			start := time.Now()
			got, err := drain(qctx, cli, uncached)
			if err != nil {
				return err
			}
			apiTimes = append(apiTimes, time.Since(start))
			answerRows = got
		}
		fmt.Fprintf(os.Stderr, "round %d/%d done\n", r+1, rounds)
	}
	if _, err := drain(qctx, cli, req); err != nil { // fills the cache
		return err
	}
	var cachedTimes []time.Duration
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	for range cached {
		start := time.Now()
		if _, err := drain(qctx, cli, req); err != nil {
			return err
		}
		cachedTimes = append(cachedTimes, time.Since(start))
	}
	p50p, p99p := pct(psqlTimes, 50), pct(psqlTimes, 99)
	p50a, p99a := pct(apiTimes, 50), pct(apiTimes, 99)
	fmt.Printf("answer: %d rows (month × customer_segment)\n\n", answerRows)
	fmt.Printf("| path | queries | p50 | p99 |\n|---|---|---|---|\n")
	fmt.Printf("| psql, the generated SQL (limit) | %d | %s | %s |\n", len(psqlTimes), ms(p50p), ms(p99p))
	fmt.Printf("| API over gRPC, uncached | %d | %s | %s |\n", len(apiTimes), ms(p50a), ms(p99a))
	fmt.Printf("| API over gRPC, cached | %d | %s | %s |\n", len(cachedTimes), ms(pct(cachedTimes, 50)), ms(pct(cachedTimes, 99)))
	fmt.Printf("\noverhead over psql: p50 %+.1f%%, p99 %+.1f%%\n",
		100*(float64(p50a)/float64(p50p)-1), 100*(float64(p99a)/float64(p99p)-1))
	return nil
}

// prepare creates db when missing and fills fct_subscriptions with rows
// deterministic rows unless it already holds that many.
func prepare(ctx context.Context, admin, db string, rows int) (string, error) {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("connect %s: %w", admin, err)
	}
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
			return "", err
		}
	}
	_ = conn.Close(ctx)
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + db
	dsn := u.String()
	conn, err = pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS fct_subscriptions (
	subscription_id text PRIMARY KEY, customer_id text, monthly_value numeric(18,2), date_month date,
	customer_segment text, product_category text, is_active boolean, updated_at timestamptz)`); err != nil {
		return "", err
	}
	var have int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM fct_subscriptions").Scan(&have); err != nil {
		return "", err
	}
	if have == rows {
		return dsn, nil
	}
	fmt.Fprintf(os.Stderr, "filling fct_subscriptions with %d rows…\n", rows)
	start := time.Now()
	if _, err := conn.Exec(ctx, "TRUNCATE fct_subscriptions"); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, `INSERT INTO fct_subscriptions
SELECT 'S' || i, 'C' || (i % 50000), ((i * 7919) % 1000000) / 100.0,
       date '2022-01-01' + make_interval(months => (i % 48)::int),
       (ARRAY['SMB','Mid-Market','Enterprise'])[1 + i % 3],
       (ARRAY['CRM','ERP','BI'])[1 + (i / 3) % 3],
       i % 4 <> 0,
       timestamptz '2022-01-01' + make_interval(secs => i::double precision)
FROM generate_series(1, $1::bigint) AS i`, rows); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE fct_subscriptions"); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "filled in %s\n", time.Since(start).Round(time.Second))
	return dsn, nil
}

var placeholder = regexp.MustCompile(`\$(\d+)`)

// inline replaces $n with the argument as a quoted literal (PostgreSQL
// types it from the context, as it does a parameter).
func inline(sql string, args []string) string {
	return placeholder.ReplaceAllStringFunc(sql, func(m string) string {
		i, _ := strconv.Atoi(m[1:])
		if i < 1 || i > len(args) {
			return m
		}
		return "'" + strings.ReplaceAll(args[i-1], "'", "''") + "'"
	})
}

var timing = regexp.MustCompile(`^Time: ([0-9.]+) ms`)

// psql runs sql n times in one psql session and returns \timing's figures.
func psql(dsn, sql string, n int) ([]time.Duration, error) {
	var in strings.Builder
	in.WriteString("\\timing on\n\\o /dev/null\n")
	for range n {
		in.WriteString(strings.TrimRight(strings.TrimSpace(sql), ";") + ";\n")
	}
	cmd := exec.Command("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", dsn) //nolint:gosec // the benchmark's own database URL
	cmd.Stdin = strings.NewReader(in.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("psql: %w", err)
	}
	var times []time.Duration
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if m := timing.FindStringSubmatch(sc.Text()); m != nil {
			f, _ := strconv.ParseFloat(m[1], 64)
			times = append(times, time.Duration(f*float64(time.Millisecond)))
		}
	}
	if len(times) != n {
		return nil, fmt.Errorf("psql printed %d timings, want %d:\n%s", len(times), n, out)
	}
	return times, nil
}

func drain(ctx context.Context, cli metricsv1.MetricsServiceClient, req *metricsv1.QueryRequest) (int, error) {
	stream, err := cli.Query(ctx, req)
	if err != nil {
		return 0, err
	}
	rows := 0
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows += len(m.GetRows())
	}
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d.Microseconds())/1000) }
