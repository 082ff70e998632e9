// Go peers for Sluice's benchmarks (Docs/Performance.md): the same workloads written the way a Go
// programmer would, with a goroutine per stage and buffered channels. Run by run.sh; prints the
// best wall time of `rounds` runs per workload, with the same checksums as sluice-throughput.
//
//	go run . [rounds]
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

func best(label string, rounds int, expected int, body func() int) time.Duration {
	fastest := time.Duration(1<<63 - 1)
	for r := 0; r < rounds; r++ {
		start := time.Now()
		got := body()
		d := time.Since(start)
		if got != expected {
			fmt.Fprintf(os.Stderr, "%s: checksum %d, expected %d\n", label, got, expected)
			os.Exit(1)
		}
		if d < fastest {
			fastest = d
		}
	}
	return fastest
}

//go:noinline
func hash(x int, rounds int) int {
	h := uint64(x) + 0x9E3779B97F4A7C15
	for i := 0; i < rounds; i++ {
		h ^= h >> 33
		h *= 0xFF51AFD7ED558CCD
		h ^= h >> 29
	}
	return int(h & 0xFFFF)
}

//go:noinline
func double(x int) int { return x * 2 }

// W1: 1 M items → map ×2 → filter %3 → map +1 → sum, a goroutine per stage, channels of 64.
func w1(rounds int) {
	n := 1_000_000
	expected := 0
	for x := 0; x < n; x++ {
		if y := x * 2; y%3 == 0 {
			expected += y + 1
		}
	}
	d := best("W1", rounds, expected, func() int {
		c1, c2, c3 := make(chan int, 64), make(chan int, 64), make(chan int, 64)
		go func() {
			for x := 0; x < n; x++ {
				c1 <- x * 2
			}
			close(c1)
		}()
		go func() {
			for x := range c1 {
				if x%3 == 0 {
					c2 <- x
				}
			}
			close(c2)
		}()
		go func() {
			for x := range c2 {
				c3 <- x + 1
			}
			close(c3)
		}()
		s := 0
		for x := range c3 {
			s += x
		}
		return s
	})
	fmt.Printf("W1 goroutine per stage (1 M items, channels of 64): %d ms\n", d.Milliseconds())
}

// W4: 5 M items, a fast producer → channel of 64 → consumer doing 16 hash rounds per item.
func w4(rounds int) {
	n := 5_000_000
	expected := 0
	for x := 0; x < n; x++ {
		expected += hash(x, 16)
	}
	d := best("W4", rounds, expected, func() int {
		c := make(chan int, 64)
		go func() {
			for x := 0; x < n; x++ {
				c <- x
			}
			close(c)
		}()
		s := 0
		for x := range c {
			s += hash(x, 16)
		}
		return s
	})
	fmt.Printf("W4 producer → 64 → consumer (5 M items): %d ms\n", d.Milliseconds())
}

// W6: 200,000 items through three stages that each call a function, a goroutine per stage.
func w6(rounds int) {
	n := 200_000
	expected := 0
	for x := 0; x < n; x++ {
		expected += x * 8
	}
	stage := func(in <-chan int) <-chan int {
		out := make(chan int, 64)
		go func() {
			for x := range in {
				out <- double(x)
			}
			close(out)
		}()
		return out
	}
	d := best("W6", rounds, expected, func() int {
		src := make(chan int, 64)
		go func() {
			for x := 0; x < n; x++ {
				src <- x
			}
			close(src)
		}()
		s := 0
		for x := range stage(stage(stage(src))) {
			s += x
		}
		return s
	})
	fmt.Printf("W6 three stages (200,000 items): %d ms\n", d.Milliseconds())
}

// W7: 100,000 × 100 µs sleeps, 256 goroutines pulling from a channel.
func w7(rounds int) {
	n, width := 100_000, 256
	expected := n * (n - 1) / 2
	d := best("W7", rounds, expected, func() int {
		in, out := make(chan int, width), make(chan int, width)
		go func() {
			for x := 0; x < n; x++ {
				in <- x
			}
			close(in)
		}()
		var wg sync.WaitGroup
		for w := 0; w < width; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for x := range in {
					time.Sleep(100 * time.Microsecond)
					out <- x
				}
			}()
		}
		go func() { wg.Wait(); close(out) }()
		s := 0
		for x := range out {
			s += x
		}
		return s
	})
	fmt.Printf("W7 fan-out I/O (100,000 × 100 µs, 256 in flight): %d ms\n", d.Milliseconds())
}

func main() {
	rounds := 3
	if len(os.Args) > 1 {
		if r, err := strconv.Atoi(os.Args[1]); err == nil {
			rounds = r
		}
	}
	// Optional second argument: the workloads to run, e.g. "w1,w6" (all four by default).
	only := "w1,w4,w6,w7"
	if len(os.Args) > 2 {
		only = os.Args[2]
	}
	fmt.Printf("go peers: best of %d runs each\n", rounds)
	for _, w := range []struct {
		name string
		run  func(int)
	}{{"w1", w1}, {"w4", w4}, {"w6", w6}, {"w7", w7}} {
		if strings.Contains(only, w.name) {
			w.run(rounds)
		}
	}
}
