package main

import (
	"fmt"
	"syscall"

	"github.com/prometheus/procfs"
)

// Process resource use from /proc (Linux), for the server under test and for
// the load generator itself, read with procfs (the parser the Prometheus
// client's process collector uses).

// procSample is one look at a process.
type procSample struct {
	CPU float64 // seconds of user + system time so far
	RSS int64   // resident bytes now
	HWM int64   // peak resident bytes
}

// sampleProc reads /proc/PID/stat (CPU times) and /proc/PID/status (resident
// memory now and at its peak).
func sampleProc(pid int) (procSample, error) {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return procSample{}, fmt.Errorf("process %d: %w", pid, err)
	}
	stat, err := p.Stat()
	if err != nil {
		return procSample{}, fmt.Errorf("process %d: %w", pid, err)
	}
	status, err := p.NewStatus()
	if err != nil {
		return procSample{}, fmt.Errorf("process %d: %w", pid, err)
	}
	return procSample{CPU: stat.CPUTime(), RSS: int64(status.VmRSS), HWM: int64(status.VmHWM)}, nil
}

// readRSS returns a process's resident set in bytes (VmRSS).
func readRSS(pid int) (int64, error) {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return 0, fmt.Errorf("process %d: %w", pid, err)
	}
	status, err := p.NewStatus()
	if err != nil {
		return 0, fmt.Errorf("process %d: %w", pid, err)
	}
	return int64(status.VmRSS), nil
}

// selfUsage returns this process's CPU seconds and peak RSS in bytes.
func selfUsage() (cpu float64, maxRSS int64, err error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, fmt.Errorf("getrusage: %w", err)
	}
	cpu = float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
	return cpu, ru.Maxrss * 1024, nil
}
