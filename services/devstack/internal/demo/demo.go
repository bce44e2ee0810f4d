// Package demo generates realistic, correctly signed traffic against the intake: WhatsApp
// Business notifications, Meta leads, Ploomes deal updates, web-shop orders and a pt-BR
// spreadsheet upload, so `make demo` shows data flowing end to end.
package demo

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"
)

// Config says where the intake is and which credentials the demo sources use.
type Config struct {
	IntakeURL      string
	WhatsAppSecret string
	MetaSecret     string
	PloomesKey     string
	ShopToken      string
	PlanilhasToken string
	Interval       time.Duration
	// Seed makes the generated traffic repeatable; 0 picks one from the clock.
	Seed uint64
}

// Generator posts demo traffic until its context ends.
type Generator struct {
	cfg  Config
	log  *slog.Logger
	http *http.Client
	rnd  *rand.Rand
	seq  int
}

// New returns a generator for cfg.
func New(cfg Config, logger *slog.Logger) *Generator {
	if cfg.Interval <= 0 {
		cfg.Interval = 500 * time.Millisecond
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	return &Generator{
		cfg:  cfg,
		log:  logger.With("component", "demo-traffic"),
		http: &http.Client{Timeout: 10 * time.Second},
		rnd:  rand.New(rand.NewPCG(seed, seed>>1)), //nolint:gosec // demo data, not secrets
	}
}

// Run posts a round of traffic every interval until ctx ends. Failures are logged, not fatal:
// the demo keeps going while a component restarts.
func (g *Generator) Run(ctx context.Context) {
	t := time.NewTicker(g.cfg.Interval)
	defer t.Stop()
	for {
		if err := g.Round(ctx); err != nil && ctx.Err() == nil {
			g.log.Warn("demo request failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Round posts one batch: a WhatsApp notification every round, and the other sources on
// some rounds, with a spreadsheet upload every 60 rounds.
func (g *Generator) Round(ctx context.Context) error {
	g.seq++
	now := time.Now().UTC()
	if err := g.post(ctx, "/webhooks/whatsapp", WhatsAppNotification(g.rnd, now), g.hubHeaders(g.cfg.WhatsAppSecret)); err != nil {
		return err
	}
	if g.seq%3 == 0 {
		body := PloomesDeal(g.rnd, now)
		if err := g.post(ctx, "/webhooks/ploomes", body, map[string]string{
			"Content-Type": "application/json", "X-Ploomes-Validation-Key": g.cfg.PloomesKey,
		}); err != nil {
			return err
		}
	}
	if g.seq%5 == 0 {
		if err := g.post(ctx, "/webhooks/meta", MetaLead(g.rnd, now), g.hubHeaders(g.cfg.MetaSecret)); err != nil {
			return err
		}
	}
	if g.seq%4 == 0 {
		body := ShopOrder(g.rnd, now)
		if err := g.post(ctx, "/v1/events/shop/orders", body, map[string]string{
			"Content-Type": "application/json", "Authorization": "Bearer " + g.cfg.ShopToken,
			"Idempotency-Key": fmt.Sprintf("order-%d-%d", now.UnixNano(), g.seq),
		}); err != nil {
			return err
		}
	}
	if g.seq%60 == 1 {
		if err := g.post(ctx, "/v1/uploads/planilhas/clientes?filename=clientes.csv&columns=limite_credito:decimal,data_cadastro:date",
			SpreadsheetCSV(g.rnd), map[string]string{
				"Content-Type": "text/csv", "Authorization": "Bearer " + g.cfg.PlanilhasToken,
			}); err != nil {
			return err
		}
	}
	return nil
}

// hubHeaders returns the header set for a Meta-signed POST; the signature is filled per body.
func (g *Generator) hubHeaders(secret string) map[string]string {
	return map[string]string{"Content-Type": "application/json", "X-Hub-Signature-256": "sign:" + secret}
}

// Sign returns the X-Hub-Signature-256 value for body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func (g *Generator) post(ctx context.Context, path string, body []byte, headers map[string]string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.cfg.IntakeURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range headers {
		if k == "X-Hub-Signature-256" && len(v) > 5 && v[:5] == "sign:" {
			v = Sign(v[5:], body)
		}
		req.Header.Set(k, v)
	}
	resp, err := g.http.Do(req)
	if err != nil {
		return fmt.Errorf("post %s: %w", path, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("post %s: %s: %s", path, resp.Status, bytes.TrimSpace(msg))
	}
	g.log.Debug("demo request accepted", "path", path, "answer", string(bytes.TrimSpace(msg)))
	return nil
}
