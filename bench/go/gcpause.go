// gcpause.go: Go twin of bench/gcpause.c (same check line). The "# " lines
// come from runtime.MemStats (NumGC, GCCPUFraction, PauseNs: per-cycle
// stop-the-world time, the last 256 cycles); run_mem.py also runs it with
// GODEBUG=gctrace=1 and reads each cycle's STW phases from stderr.
// Usage: gcpause [LIVE_MB=1024] [CHURN_MB=4096].
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

const list = 4

type Node struct {
	next *Node
	v    [7]uint64
}

var rng uint64 = 88172645463325252

func nextRand() uint64 {
	rng ^= rng << 13
	rng ^= rng >> 7
	rng ^= rng << 17
	return rng
}

func makeList(seed uint64) *Node {
	var head *Node
	for i := 0; i < list; i++ {
		n := &Node{next: head}
		n.v[0] = seed + uint64(i)
		head = n
	}
	return head
}

func main() {
	liveMB, churnMB := 1024, 4096
	if len(os.Args) > 1 {
		liveMB, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		churnMB, _ = strconv.Atoi(os.Args[2])
	}
	nslots := (liveMB << 20) / (list * 64)
	nchurn := (churnMB << 20) / (list * 64)

	slots := make([]*Node, nslots)
	for s := range slots {
		slots[s] = makeList(uint64(s))
	}
	for k := 0; k < nchurn; k++ {
		slots[nextRand()%uint64(nslots)] = makeList(uint64(nslots + k))
	}

	var check, nodes uint64
	for _, h := range slots {
		for n := h; n != nil; n = n.next {
			check += n.v[0]
			nodes++
		}
	}
	fmt.Printf("gcpause: %d slots, %d replaced, %d live nodes, check %d\n", nslots, nchurn,
		nodes, check)

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("# num_gc=%d\n# gc_cpu_fraction=%.6f\n# pause_total_ns=%d\n", ms.NumGC,
		ms.GCCPUFraction, ms.PauseTotalNs)
	first := uint32(0)
	if ms.NumGC > 256 {
		first = ms.NumGC - 256
	}
	var p []string
	for i := first; i < ms.NumGC; i++ {
		p = append(p, strconv.FormatUint(ms.PauseNs[i%256], 10))
	}
	fmt.Printf("# pauses_ns=%s\n", strings.Join(p, ","))
	if nodes != uint64(nslots*list) {
		os.Exit(1)
	}
}
