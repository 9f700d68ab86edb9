package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestValidateRefuses(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--url", "ws://10.0.0.1:8080"}, "only targets loopback"},
		{[]string{"--url", "ws://example.com:80"}, "only targets loopback"},
		{[]string{"--url", "wss://127.0.0.1"}, "--url must look like"},
		{[]string{"--url", "ws://127.0.0.1:1,ws://10.0.0.1:2"}, "only targets loopback"},
		{[]string{"--url", "ws://127.0.0.1:1,"}, "--url must look like"},
		{[]string{"--proto", "centrifugo", "--url", "ws://127.0.0.1:1,ws://127.0.0.1:2"}, "takes one --url"},
		{[]string{"--proto", "mqtt"}, "unknown protocol"},
		{[]string{"--n", "0"}, "--n must be at least 1"},
		{[]string{"--per-worker", "19999"}, "--per-worker must be 1 to 18000"},
		{[]string{"--src", "10.1.1.1"}, "--src must be an IPv4 loopback"},
		{[]string{"--timeout", "0s"}, "--timeout must be above 0"},
		{[]string{"--progress", "sometimes"}, "--progress must be"},
		{[]string{"--metrics-url", "ftp://x"}, "--metrics-url must be"},
		{[]string{"extra"}, "unexpected argument"},
		{[]string{"--nope"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		code := runCLI(context.Background(), append([]string{"ramp"}, tt.args...), &stderr, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tt.want) || !strings.Contains(stderr.String(), "--help") {
			t.Errorf("%v: exit %d, output %q; want 2 and %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}

func TestCLIHelpAndUnknown(t *testing.T) {
	var out bytes.Buffer
	if code := runCLI(context.Background(), []string{"--help"}, &out, &out); code != 0 || !strings.Contains(out.String(), "Scenarios:") {
		t.Errorf("--help: exit %d, %q", code, out.String())
	}
	out.Reset()
	if code := runCLI(context.Background(), []string{"churn", "--help"}, &out, &out); code != 0 || !strings.Contains(out.String(), "-churn-rate") {
		t.Errorf("churn --help: exit %d, %q", code, out.String())
	}
	out.Reset()
	if code := runCLI(context.Background(), []string{"explode"}, &out, &out); code != 2 || !strings.Contains(out.String(), `unknown command "explode"`) {
		t.Errorf("unknown command: exit %d, %q", code, out.String())
	}
	out.Reset()
	if code := runCLI(context.Background(), nil, &out, &out); code != 2 {
		t.Errorf("no command: exit %d", code)
	}
	out.Reset()
	if code := runCLI(context.Background(), []string{"idle", "--n", "5"}, &out, &out); code != 2 || !strings.Contains(out.String(), "--server-pid") {
		t.Errorf("idle without --server-pid: exit %d, %q", code, out.String())
	}
}

func TestWorkerConfigs(t *testing.T) {
	o := options{N: 10000, PerWorker: 5000, Src: "127.0.0.250", IPsPerWorker: 3, URL: "ws://127.0.0.1:1", DialTimeout: time.Second}
	cfgs, err := o.workerConfigs(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfgs) != 2 {
		t.Fatalf("%d workers for 10000 at 5000 each, want 2", len(cfgs))
	}
	want := [][]string{{"127.0.0.250", "127.0.0.251", "127.0.0.252"}, {"127.0.0.253", "127.0.0.254", "127.0.0.255"}}
	for i, c := range cfgs {
		if strings.Join(c.SourceIPs, ",") != strings.Join(want[i], ",") || c.Index != i {
			t.Errorf("worker %d: %v", i, c.SourceIPs)
		}
	}
	o.Src = "127.0.1.0"
	o.PerWorker = 18000
	o.N = 18000
	if cfgs, _ := o.workerConfigs(500); len(cfgs) != 2 || cfgs[1].SourceIPs[0] != "127.0.1.3" {
		t.Errorf("18000 + 500 extra: %d workers (%v), want a second one past the hard bound", len(cfgs), cfgs)
	}
	total := 0
	for i := range 3 {
		total += share(10, 3, i)
	}
	if total != 10 || share(10, 3, 0) != 4 || share(10, 3, 2) != 3 {
		t.Errorf("share splits 10 over 3 as %d,%d,%d", share(10, 3, 0), share(10, 3, 1), share(10, 3, 2))
	}
}
