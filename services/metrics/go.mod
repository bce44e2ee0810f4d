module github.com/riacho/riacho/services/metrics

go 1.26.0
