module github.com/riacho/riacho/services/riachoctl

go 1.26.0
