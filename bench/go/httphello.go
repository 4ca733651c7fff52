// httphello.go: the Go anchor for examples/httphello.c, net/http's hello
// server: a handler that writes "hello". Listens on argv[1] (default ":8080");
// prints "listening on ADDR" once the socket is bound (bench/run_net.py waits
// for that line).
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
)

func main() {
	addr := ":8080"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello"))
	})
	fmt.Fprintln(os.Stderr, http.Serve(ln, nil))
	os.Exit(1)
}
