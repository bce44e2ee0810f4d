package avro_test

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/riacho/riacho/libs/avro"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newClient returns a Client for url with a short timeout, closed with t.
func newClient(t testing.TB, url string, mutate ...func(*avro.RegistryConfig)) *avro.Client {
	t.Helper()
	cfg := avro.DefaultRegistryConfig()
	cfg.URL = url
	cfg.Timeout = 5 * time.Second
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := avro.NewClient(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}
