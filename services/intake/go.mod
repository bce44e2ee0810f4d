module github.com/riacho/riacho/services/intake

go 1.26.0
