// list.go: Go twin of bench/list.c (same output).
// Usage: list [N=1000000] [REPS=40].
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
)

type Node struct {
	next *Node
	v    int
}

func build(n int) *Node {
	var head, tail *Node
	for i := 0; i < n; i++ {
		x := &Node{}
		x.v = i
		if tail != nil {
			tail.next = x
		} else {
			head = x
		}
		tail = x
	}
	return head
}

func sum(x *Node) int {
	s := 0
	for ; x != nil; x = x.next {
		s += x.v
	}
	return s
}

func main() {
	n, reps := 1000000, 40
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		reps, _ = strconv.Atoi(os.Args[2])
	}
	longLived := build(n / 4)
	total := 0
	for r := 0; r < reps; r++ {
		total += sum(build(n))
	}
	fmt.Printf("%d lists of %d: sum %d\n", reps, n, total)
	fmt.Printf("long lived list of %d: sum %d\n", n/4, sum(longLived))
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("# num_gc=%d\n", ms.NumGC)
}
