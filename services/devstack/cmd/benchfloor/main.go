// Command benchfloor is the reference point of the intake load benchmark: a bare net/http
// server that reads each request body and answers a fixed 200, doing no other work. Its
// rate under the same wrk load is the ceiling of HTTP serving on the machine.
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address")
	flag.Parse()
	srv := &http.Server{
		Addr:              *addr,
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte("{\"accepted\":1}\n"))
		}),
	}
	log.Fatal(srv.ListenAndServe())
}
