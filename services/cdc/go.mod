module github.com/riacho/riacho/services/cdc

go 1.26.0
