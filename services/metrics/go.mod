module github.com/riacho/riacho/services/metrics

go 1.26.0

replace (
	github.com/riacho/riacho/libs => ../../libs
	github.com/riacho/riacho/proto => ../../proto
)
