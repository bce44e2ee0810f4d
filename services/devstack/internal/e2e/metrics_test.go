package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	metricsv1 "github.com/riacho/riacho/proto/riacho/metrics/v1"
)

// metricsClient asks MetricsService as the demo's finance client.
type metricsClient struct {
	conn  *grpc.ClientConn
	api   metricsv1.MetricsServiceClient
	token string
}

// metricsClient dials the stack's MetricsService; close it with Close.
func (h *harness) metricsClient() (*metricsClient, error) {
	conn, err := grpc.NewClient(h.opts.MetricsAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	return &metricsClient{conn: conn, api: metricsv1.NewMetricsServiceClient(conn), token: h.env["RIACHO_METRICS_TOKEN_FINANCE"]}, nil
}

// Close closes the connection.
func (c *metricsClient) Close() error { return c.conn.Close() }

// mrr is an answer of mrr by month and customer_segment: centavos per
// "YYYY-MM segment" cell.
type mrr map[string]int64

// cell is the key of a month and segment.
func cell(month time.Time, segment string) string {
	return month.UTC().Format("2006-01") + " " + segment
}

// total is the sum over every cell.
func (m mrr) total() int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// mrr queries the seed's mrr by month and customer_segment, restricted by
// filters.
func (c *metricsClient) mrr(ctx context.Context, filters ...*metricsv1.Filter) (mrr, error) {
	m, _, err := c.mrrLoaded(ctx, filters...)
	return m, err
}

// mrrLoaded is mrr with the answer's freshness: when the loader last wrote
// fct_subscriptions.
func (c *metricsClient) mrrLoaded(ctx context.Context, filters ...*metricsv1.Filter) (mrr, time.Time, error) {
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.token)
	stream, err := c.api.Query(ctx, &metricsv1.QueryRequest{
		Metrics: []string{"mrr"}, Grain: "month", Dimensions: []string{"customer_segment"}, Filters: filters,
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("MetricsService.Query mrr: %w", err)
	}
	out := mrr{}
	var (
		cols   []*metricsv1.Column
		loaded time.Time
	)
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, loaded, nil
		}
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("MetricsService.Query mrr: %w", err)
		}
		if len(msg.GetColumns()) > 0 {
			cols = msg.GetColumns()
		}
		for _, f := range msg.GetFreshness() {
			if f.GetModel() == "fct_subscriptions" && f.GetLoadedAt() != nil {
				loaded = f.GetLoadedAt().AsTime()
			}
		}
		for _, row := range msg.GetRows() {
			if err := addRow(out, cols, row); err != nil {
				return nil, time.Time{}, err
			}
		}
	}
}

// addRow adds one answer row to m, finding the cells by column role.
func addRow(m mrr, cols []*metricsv1.Column, row *metricsv1.Row) error {
	if len(cols) != len(row.GetValues()) {
		return fmt.Errorf("row has %d values for %d columns", len(row.GetValues()), len(cols))
	}
	var (
		period  time.Time
		segment string
		cents   int64
	)
	for i, c := range cols {
		v := row.GetValues()[i]
		switch {
		case c.GetRole() == "period":
			period = v.GetTime().AsTime()
		case c.GetName() == "customer_segment":
			segment = v.GetText()
		case c.GetName() == "mrr" && !v.GetNull():
			n, err := centavos(v.GetDecimal())
			if err != nil {
				return fmt.Errorf("mrr value %v: %w", v, err)
			}
			cents = n
		}
	}
	m[cell(period, segment)] += cents
	return nil
}

// centavos reads an exact decimal text as centavos.
func centavos(s string) (int64, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("%q is not a decimal", s)
	}
	r.Mul(r, big.NewRat(100, 1))
	if !r.IsInt() || !r.Num().IsInt64() {
		return 0, fmt.Errorf("%q is not a whole number of centavos", s)
	}
	return r.Num().Int64(), nil
}

// categoryIs filters on fct_subscriptions.product_category.
func categoryIs(category string) *metricsv1.Filter {
	return &metricsv1.Filter{Field: "product_category", Operator: "=", Values: []string{category}}
}
