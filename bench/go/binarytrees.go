// binarytrees.go: Go twin of bench/binarytrees.c (same output).
// Usage: binarytrees [MAX=20] [PAR=0] [ORDER=up]; PAR=1: one goroutine per
// depth; ORDER=fill builds each node before its children.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
)

type Node struct{ l, r *Node }

func bottomUp(depth int) *Node {
	if depth <= 0 {
		return &Node{}
	}
	l := bottomUp(depth - 1)
	r := bottomUp(depth - 1)
	return &Node{l, r}
}

// topDown: the node first, then its fields (ORDER=fill).
func topDown(depth int) *Node {
	n := &Node{}
	if depth > 0 {
		n.l = topDown(depth - 1)
		n.r = topDown(depth - 1)
	}
	return n
}

var build = bottomUp

func (n *Node) check() int {
	if n.l == nil {
		return 1
	}
	return 1 + n.l.check() + n.r.check()
}

const minDepth = 4

type job struct {
	depth      int
	iters, sum int
}

func (j *job) run() {
	sum := 0
	for i := 0; i < j.iters; i++ {
		sum += build(j.depth).check()
	}
	j.sum = sum
}

func printNumGC() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("# num_gc=%d\n", ms.NumGC)
}

func main() {
	max, par := 20, 0
	if len(os.Args) > 1 {
		max, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		par, _ = strconv.Atoi(os.Args[2])
	}
	if len(os.Args) > 3 && os.Args[3] == "fill" {
		build = topDown
	}
	if max < minDepth+2 {
		max = minDepth + 2
	}
	stretch := max + 1
	fmt.Printf("stretch tree of depth %d\t check: %d\n", stretch, build(stretch).check())

	longLived := build(max)

	var jobs []*job
	for d := minDepth; d <= max; d += 2 {
		jobs = append(jobs, &job{depth: d, iters: 1 << (max - d + minDepth)})
	}
	if par != 0 {
		var wg sync.WaitGroup
		wg.Add(len(jobs))
		for _, j := range jobs {
			go func(j *job) { j.run(); wg.Done() }(j)
		}
		wg.Wait()
	} else {
		for _, j := range jobs {
			j.run()
		}
	}
	for _, j := range jobs {
		fmt.Printf("%d\t trees of depth %d\t check: %d\n", j.iters, j.depth, j.sum)
	}
	fmt.Printf("long lived tree of depth %d\t check: %d\n", max, longLived.check())
	printNumGC()
}
