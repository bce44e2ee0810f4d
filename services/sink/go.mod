module github.com/riacho/riacho/services/sink

go 1.26.0
