// alloc.go: Go twin of bench/alloc.c (same output).
// Usage: alloc [N=100000000] [scan|noscan].
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

type obj struct {
	p       *obj
	a, b, c uint64
}

var (
	sink       *obj
	sinkNoscan *[4]uint64
)

func printNumGC() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("# num_gc=%d\n", ms.NumGC)
}

func main() {
	n := 100000000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	noscan := len(os.Args) > 2 && os.Args[2] == "noscan"
	anchor := &obj{}
	var check uint64
	t0 := time.Now()
	if noscan {
		for i := 0; i < n; i++ {
			u := uint64(i)
			o := &[4]uint64{u, u, u, u}
			sinkNoscan = o
			check += sinkNoscan[3]
		}
	} else {
		for i := 0; i < n; i++ {
			u := uint64(i)
			o := &obj{p: anchor, a: u, b: u, c: u}
			sink = o
			check += sink.c
		}
	}
	loop := time.Since(t0)
	kind := "scan"
	if noscan {
		kind = "noscan"
	}
	fmt.Printf("alloc %d objects of 32 bytes (%s): check %d\n", n, kind, check)
	fmt.Printf("# loop_ns=%d\n", loop.Nanoseconds())
	printNumGC()
	if check != uint64(n)*uint64(n-1)/2 {
		os.Exit(1)
	}
}
