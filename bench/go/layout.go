// layout.go: the twin of bench/layout.c (what a struct's field order costs).
// Go needs no third order: its collector scans a type's pointer words only
// (ptrdata), which is what gort_new_ptrs asks for in C.
// Usage: layout [N=10000000] [ROUNDS=4] [ORDER=careless|reordered].
package main

import (
	"fmt"
	"os"
	"strconv"
	"unsafe"
)

type Careless struct {
	tag   int8
	next  *Careless
	id    int32
	name  unsafe.Pointer
	flag  int8
	score float64
	kind  int16
	data  unsafe.Pointer
}

type Reordered struct {
	next  *Reordered
	name  unsafe.Pointer
	data  unsafe.Pointer
	score float64
	id    int32
	kind  int16
	tag   int8
	flag  int8
}

var record = []byte("record")

func run(n int64, rounds int, reordered bool) int64 {
	index := make([]unsafe.Pointer, n)
	name := unsafe.Pointer(&record[0])
	mk := func(i int64, prev unsafe.Pointer) unsafe.Pointer {
		if reordered {
			r := new(Reordered)
			r.id, r.tag, r.flag, r.kind = int32(i), int8(i%128), int8(i&1), int16(i%1000)
			r.score, r.name, r.data = float64(i%100)/4.0, name, prev
			return unsafe.Pointer(r)
		}
		r := new(Careless)
		r.id, r.tag, r.flag, r.kind = int32(i), int8(i%128), int8(i&1), int16(i%1000)
		r.score, r.name, r.data = float64(i%100)/4.0, name, prev
		return unsafe.Pointer(r)
	}
	var prev unsafe.Pointer
	for i := int64(0); i < n; i++ {
		prev = mk(i, prev)
		index[i] = prev
	}
	x := uint64(88172645463325252)
	for r := 0; r < rounds; r++ {
		for k := int64(0); k < n/4; k++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			i := int64(x % uint64(n))
			index[i] = mk(i+int64(r), index[(i+1)%n])
		}
	}
	var sum int64
	for i := int64(0); i < n; i++ {
		b2i := func(b bool) int64 {
			if b {
				return 1
			}
			return 0
		}
		if reordered {
			r := (*Reordered)(index[i])
			sum += int64(r.id) + int64(r.tag) + int64(r.flag) + int64(r.kind) + int64(r.score) + b2i(r.data != nil)
		} else {
			r := (*Careless)(index[i])
			sum += int64(r.id) + int64(r.tag) + int64(r.flag) + int64(r.kind) + int64(r.score) + b2i(r.data != nil)
		}
	}
	return sum
}

func main() {
	n, rounds, order := int64(10000000), 4, "careless"
	if len(os.Args) > 1 {
		n, _ = strconv.ParseInt(os.Args[1], 10, 64)
	}
	if len(os.Args) > 2 {
		rounds, _ = strconv.Atoi(os.Args[2])
	}
	if len(os.Args) > 3 {
		order = os.Args[3]
	}
	sum := run(n, rounds, order != "careless")
	fmt.Printf("layout %d records, %d rounds: sum %d\n", n, rounds, sum)
}
