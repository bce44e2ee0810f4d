module github.com/riacho/riacho/services/transform

go 1.26.0
