package devstack

import (
	"fmt"
	"strings"

	"github.com/riacho/riacho/services/devstack/internal/demo"
)

// Banner describes the running stack's endpoints and how to try it.
func (st *Stack) Banner() string {
	o := st.opts
	var b strings.Builder
	fmt.Fprintf(&b, "riacho devstack is ready\n\n")
	fmt.Fprintf(&b, "  Kafka broker (kfake)     %s\n", o.KafkaAddr)
	fmt.Fprintf(&b, "  Schema registry          http://%s\n", o.RegistryAddr)
	fmt.Fprintf(&b, "  intake HTTP              http://%s  (/webhooks/whatsapp, /webhooks/meta, /webhooks/ploomes, /v1/events/{source}/{entity}, /v1/uploads/{source}/{entity}, /metrics)\n", o.IntakeAddr)
	fmt.Fprintf(&b, "  intake gRPC Control      %s\n", o.IntakeCtl)
	if st.cdc != nil {
		fmt.Fprintf(&b, "  cdc gRPC Control         %s\n", st.cdc.ControlAddr())
		fmt.Fprintf(&b, "  cdc metrics and probes   http://%s/metrics\n", st.cdc.OpsAddr())
	} else {
		fmt.Fprintf(&b, "  cdc                      not running: %s\n", st.cdcNote)
	}
	if st.sink != nil {
		fmt.Fprintf(&b, "  sink gRPC Control        %s\n", st.sink.ControlAddr())
		fmt.Fprintf(&b, "  sink metrics and probes  http://%s/metrics\n", st.sink.OpsAddr())
		fmt.Fprintf(&b, "  lake (raw zone, Iceberg) %s\n", st.sink.LakeURL())
	} else {
		fmt.Fprintf(&b, "  sink                     not running (--sink=false)\n")
	}
	if st.transform != nil {
		fmt.Fprintf(&b, "  transform gRPC Control   %s\n", st.transform.ControlAddr())
		fmt.Fprintf(&b, "  transform metrics        http://%s/metrics\n", st.transform.OpsAddr())
		fmt.Fprintf(&b, "  transform project        %s\n", st.transformDir)
	} else {
		fmt.Fprintf(&b, "  transform                not running (--transform=false)\n")
	}
	if st.quality != nil {
		fmt.Fprintf(&b, "  quality gRPC Control     %s\n", st.quality.ControlAddr())
		fmt.Fprintf(&b, "  quality metrics          http://%s/metrics\n", st.quality.OpsAddr())
		fmt.Fprintf(&b, "  quality suites           %s\n", st.qualityDir)
	} else {
		fmt.Fprintf(&b, "  quality                  not running (--quality=false)\n")
	}
	if st.metrics != nil {
		fmt.Fprintf(&b, "  metrics gRPC (+Control)  %s   riacho.metrics.v1.MetricsService\n", st.metrics.Addr())
		fmt.Fprintf(&b, "  metrics REST             http://%s/v1/metrics\n", st.metrics.HTTPAddr())
		fmt.Fprintf(&b, "  metrics ops              http://%s/metrics\n", st.metrics.OpsAddr())
		fmt.Fprintf(&b, "  metrics content          %s (warehouse.yml, models/metrics, access.yml)\n", st.metricsDir)
		fmt.Fprintf(&b, "  warehouse                %s\n", st.metrics.Store().DSN)
	} else {
		fmt.Fprintf(&b, "  metrics                  not running (--metrics=false)\n")
	}
	fmt.Fprintf(&b, "  data directory           %s\n", o.DataDir)
	if o.DemoTraffic {
		fmt.Fprintf(&b, "  demo traffic             on, every %s\n", o.DemoInterval)
	}
	fmt.Fprintf(&b, "\nTry:\n")
	fmt.Fprintf(&b, "  kcat -b %s -L\n", o.KafkaAddr)
	fmt.Fprintf(&b, "  kcat -b %s -C -t raw.whatsapp.messages -e -f '%%k  %%h\\n'\n", o.KafkaAddr)
	if st.pgDemo != nil {
		fmt.Fprintf(&b, "  kcat -b %s -C -t raw.%s.demo.faturas -e -f '%%k  %%h\\n'   # CDC of %s in %s (psql: INSERT INTO %s ...)\n", o.KafkaAddr, DemoCDCSource, demo.InvoiceTable, st.pgDemo.URL, demo.InvoiceTable)
	}
	fmt.Fprintf(&b, "  curl -s http://%s/subjects\n", o.RegistryAddr)
	fmt.Fprintf(&b, "  curl -s http://%s/metrics | grep riacho_intake_events_produced_total\n", o.IntakeAddr)
	fmt.Fprintf(&b, "  go run ./services/riachoctl/cmd/riachoctl --service intake --token %s status\n", tokenFor(st.env["RIACHO_CONTROL_TOKENS"], "operator"))
	if st.sink != nil {
		if o.Lake == "" {
			fmt.Fprintf(&b, "  find %s/raw -name '*.parquet'   # files appear within %s of the traffic\n", o.LakeDir(), DemoRotateInterval)
		}
		fmt.Fprintf(&b, "  go run ./services/riachoctl/cmd/riachoctl --addr %s --token %s command tables\n", st.sink.ControlAddr(), tokenFor(st.env["RIACHO_CONTROL_TOKENS"], "operator"))
	}
	if st.cdc != nil {
		fmt.Fprintf(&b, "  go run ./services/riachoctl/cmd/riachoctl --addr %s --token %s status\n", st.cdc.ControlAddr(), tokenFor(st.env["RIACHO_CONTROL_TOKENS"], "operator"))
	}
	if st.transform != nil {
		fmt.Fprintf(&b, "  kcat -b %s -C -t staging.stg_ploomes_leads -X isolation.level=read_committed -e -f '%%k  %%h\\n'   # the seed's model, seconds behind the webhooks\n", o.KafkaAddr)
		fmt.Fprintf(&b, "  go run ./services/riachoctl/cmd/riachoctl --service transform --token %s command tail model=stg_ploomes_leads n=5   # decoded\n", tokenFor(st.env["RIACHO_CONTROL_TOKENS"], "operator"))
		fmt.Fprintf(&b, "  go run ./services/riachoctl/cmd/riachoctl --service transform --token %s command models\n", tokenFor(st.env["RIACHO_CONTROL_TOKENS"], "operator"))
		fmt.Fprintf(&b, "  go run ./services/riachoctl/cmd/riachoctl --service transform --token %s command compiled model=stg_ploomes_leads\n", tokenFor(st.env["RIACHO_CONTROL_TOKENS"], "operator"))
	}
	if st.quality != nil {
		fmt.Fprintf(&b, "  go run ./services/riachoctl/cmd/riachoctl --service quality --token %s command suites\n", tokenFor(st.env["RIACHO_CONTROL_TOKENS"], "operator"))
		fmt.Fprintf(&b, "  go run ./services/riachoctl/cmd/riachoctl --service quality --token %s command results model=%s\n", tokenFor(st.env["RIACHO_CONTROL_TOKENS"], "operator"), DemoStagingModel)
	}
	if st.metrics != nil {
		fmt.Fprintf(&b, "  curl -s -H 'Authorization: Bearer %s' http://%s/v1/metrics\n", st.env["RIACHO_METRICS_TOKEN_FINANCE"], st.metrics.HTTPAddr())
		fmt.Fprintf(&b, "  curl -s -H 'Authorization: Bearer %s' -d '{\"metrics\":[\"mrr\"],\"grain\":\"month\",\"dimensions\":[\"customer_segment\"]}' http://%s/v1/metrics:query\n", st.env["RIACHO_METRICS_TOKEN_FINANCE"], st.metrics.HTTPAddr())
		fmt.Fprintf(&b, "  go run ./services/riachoctl/cmd/riachoctl --service metrics --token %s command explain metric=mrr grain=month dimensions=customer_segment\n", tokenFor(st.env["RIACHO_CONTROL_TOKENS"], "operator"))
		fmt.Fprintf(&b, "  go run ./services/riachoctl/cmd/riachoctl --service metrics --token %s command freshness\n", tokenFor(st.env["RIACHO_CONTROL_TOKENS"], "operator"))
	}
	fmt.Fprintf(&b, "\nCtrl-C stops the stack cleanly.\n")
	return b.String()
}
