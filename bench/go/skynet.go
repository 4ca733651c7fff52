// skynet.go: Go twin of bench/skynet.c.
package main

import (
	"fmt"
	"os"
	"strconv"
)

func skynet(c chan int, num, size, div int) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int)
	for i := 0; i < div; i++ {
		go skynet(rc, num+i*(size/div), size/div, div)
	}
	sum := 0
	for i := 0; i < div; i++ {
		sum += <-rc
	}
	c <- sum
}

func main() {
	leaves := 1000000
	if len(os.Args) > 1 {
		leaves, _ = strconv.Atoi(os.Args[1])
	}
	c := make(chan int)
	go skynet(c, 0, leaves, 10)
	fmt.Printf("skynet: sum %d\n", <-c)
}
