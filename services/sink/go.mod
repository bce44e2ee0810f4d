module github.com/riacho/riacho/services/sink

go 1.26.0

replace (
	github.com/riacho/riacho/libs => ../../libs
	github.com/riacho/riacho/proto => ../../proto
)
