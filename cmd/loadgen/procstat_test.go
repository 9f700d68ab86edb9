package main

import (
	"os"
	"testing"
)

func TestSampleProc(t *testing.T) {
	s, err := sampleProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSS <= 0 || s.HWM < s.RSS || s.CPU < 0 {
		t.Errorf("sample of this process: %+v", s)
	}
	rss, err := readRSS(os.Getpid())
	if err != nil || rss <= 0 {
		t.Errorf("readRSS: %d, %v", rss, err)
	}
	if _, err := sampleProc(1 << 30); err == nil {
		t.Error("no error for a process that does not exist")
	}
}
