module github.com/riacho/riacho/services/devstack

go 1.26.0
