module github.com/riacho/riacho/services/quality

go 1.26.0
