package main

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"presence/internal/wstest"
)

// resources is what a test process holds: goroutines and open file
// descriptors. The abuse and soak tests check that the server gives back
// everything an attacker or a churn made it take.
type resources struct {
	goroutines int
	fds        int
}

func (r resources) String() string {
	return fmt.Sprintf("%d goroutines, %d open files", r.goroutines, r.fds)
}

// currentResources counts this process's goroutines and /proc/self/fd entries.
func currentResources(t testing.TB) resources {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("count open files: %v", err)
	}
	return resources{goroutines: runtime.NumGoroutine(), fds: len(fds)}
}

// backToBaseline waits until the process holds no more goroutines and open
// files than base (transient ones — a timer's goroutine, a closing socket —
// are waited out), and fails with what is still held at the deadline.
func backToBaseline(t testing.TB, base resources, within time.Duration) {
	t.Helper()
	wstest.Eventually(t, within, func() (bool, string) {
		now := currentResources(t)
		if now.goroutines <= base.goroutines && now.fds <= base.fds {
			return true, ""
		}
		return false, fmt.Sprintf("holding %s, baseline %s", now, base)
	})
}

// heapStats is the Go heap after a full collection.
type heapStats struct {
	live  uint64 // HeapAlloc: bytes of live objects
	inuse uint64 // HeapInuse: bytes in in-use spans
	total uint64 // TotalAlloc: bytes allocated since the process started
}

func readHeap() heapStats {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return heapStats{live: m.HeapAlloc, inuse: m.HeapInuse, total: m.TotalAlloc}
}

// heapPeak samples the heap in use every few milliseconds until stop is
// called, and returns the largest HeapInuse it saw.
func heapPeak() (stop func() uint64) {
	done := make(chan struct{})
	peak := make(chan uint64, 1)
	go func() {
		var m runtime.MemStats
		var max uint64
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			max = maxU(max, m.HeapInuse)
			select {
			case <-done:
				peak <- max
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		return <-peak
	}
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

func mib(b uint64) string { return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20)) }

// signed difference of two byte counts, in MiB.
func mibDelta(after, before uint64) string {
	return fmt.Sprintf("%+.2f MiB", (float64(after)-float64(before))/(1<<20))
}
