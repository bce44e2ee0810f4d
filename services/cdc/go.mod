module github.com/riacho/riacho/services/cdc

go 1.26.0

replace (
	github.com/riacho/riacho/libs => ../../libs
	github.com/riacho/riacho/proto => ../../proto
)

require (
	github.com/golang/snappy v1.0.0 // indirect
	github.com/jackc/pgio v1.0.0 // indirect
	github.com/jackc/pglogrepl v0.0.0-20251213150135-2e8d0df862c1 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/pgx/v5 v5.12.0 // indirect
	github.com/linkedin/goavro/v2 v2.15.0 // indirect
	github.com/prometheus/client_golang v1.25.0 // indirect
	github.com/riacho/riacho/libs v0.0.0 // indirect
	github.com/twmb/franz-go v1.22.3 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	golang.org/x/text v0.42.0 // indirect
)
