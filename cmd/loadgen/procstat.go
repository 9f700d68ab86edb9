package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Process resource use from /proc (Linux), for the server under test and for
// the load generator itself.

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times; it is 100
// on every Linux architecture Go supports.
const clockTicks = 100

// procSample is one look at a process.
type procSample struct {
	CPU     float64 `json:"cpu"`     // seconds of user + system time so far
	RSS     int64   `json:"rss"`     // resident bytes now
	HWM     int64   `json:"hwm"`     // peak resident bytes
	Threads int     `json:"threads"` // OS threads
}

// sampleProc reads /proc/PID/stat and /proc/PID/status.
func sampleProc(pid int) (procSample, error) {
	var s procSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("process %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces; fields after it are plain.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("process %d: unreadable stat", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("process %d: short stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("process %d: bad cpu times in stat", pid)
	}
	s.CPU = float64(utime+stime) / clockTicks

	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("process %d: %w", pid, err)
	}
	s.RSS = statusKiB(status, "VmRSS:") * 1024
	s.HWM = statusKiB(status, "VmHWM:") * 1024
	s.Threads = int(statusKiB(status, "Threads:"))
	return s, nil
}

// readRSS returns a process's resident set in bytes.
func readRSS(pid int) (int64, error) {
	s, err := sampleProc(pid)
	return s.RSS, err
}

// statusKiB returns the number after key in /proc/PID/status ("VmRSS: 123 kB").
func statusKiB(status []byte, key string) int64 {
	i := bytes.Index(status, []byte(key))
	if i < 0 {
		return 0
	}
	line := status[i+len(key):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	f := strings.Fields(string(line))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(f[0], 10, 64)
	return n
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
