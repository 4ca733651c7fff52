// gcbench.go: Go twin of bench/gcbench.c (GCBench, same output).
// Usage: gcbench [MAX=16] [REPS=5] [ORDER=up]; ORDER=fill: MakeTree node first.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
)

type Node struct {
	left, right *Node
	i, j        int32
}

const arraySize, minDepth = 500000, 4

func treeSize(d int) int { return 1<<(d+1) - 1 }

func populate(depth int, n *Node) {
	if depth <= 0 {
		return
	}
	depth--
	n.left = &Node{}
	n.right = &Node{}
	populate(depth, n.left)
	populate(depth, n.right)
}

func makeTree(depth int) *Node {
	if depth <= 0 {
		return &Node{}
	}
	l := makeTree(depth - 1)
	r := makeTree(depth - 1)
	return &Node{left: l, right: r}
}

// makeTreeFill: the node first, then its fields (ORDER=fill).
func makeTreeFill(depth int) *Node {
	n := &Node{}
	if depth > 0 {
		n.left = makeTreeFill(depth - 1)
		n.right = makeTreeFill(depth - 1)
	}
	return n
}

func walk(n *Node) int {
	if n == nil {
		return 0
	}
	return 1 + walk(n.left) + walk(n.right)
}

func printNumGC() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("# num_gc=%d\n", ms.NumGC)
}

func main() {
	max, reps := 16, 5
	if len(os.Args) > 1 {
		max, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		reps, _ = strconv.Atoi(os.Args[2])
	}
	mk := makeTree
	if len(os.Args) > 3 && os.Args[3] == "fill" {
		mk = makeTreeFill
	}
	if max < minDepth {
		max = minDepth
	}
	stretch := max + 2

	fmt.Printf("stretch tree of depth %d: check %d\n", stretch, walk(mk(stretch)))

	longLived := &Node{}
	populate(max, longLived)
	array := make([]float64, arraySize)
	for i := 0; i < arraySize/2; i++ {
		array[i] = 1.0 / float64(i)
	}

	for rep := 0; rep < reps; rep++ {
		for d := minDepth; d <= max; d += 2 {
			iters := 2 * treeSize(stretch) / treeSize(d)
			var t *Node
			for i := 0; i < iters; i++ {
				t = &Node{}
				populate(d, t)
			}
			topDown := walk(t)
			for i := 0; i < iters; i++ {
				t = mk(d)
			}
			fmt.Printf("rep %d depth %d: %d trees top-down check %d, bottom-up check %d\n",
				rep, d, iters, topDown, walk(t))
		}
	}
	ll := walk(longLived)
	ok := array[1000] == 1.0/1000
	status := "BAD"
	if ok {
		status = "ok"
	}
	fmt.Printf("long lived tree of depth %d: check %d, array %s\n", max, ll, status)
	printNumGC()
	if !ok || ll != treeSize(max) {
		os.Exit(1)
	}
}
