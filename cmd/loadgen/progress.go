package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progressMode says when to draw progress bars on stderr.
type progressMode string

const (
	progressAuto   progressMode = "auto"   // on a terminal only
	progressAlways progressMode = "always" // a bar redrawn in place
	progressNever  progressMode = "never"  // no bar; phases are still logged
)

func (m progressMode) enabled(w *os.File) bool {
	switch m {
	case progressAlways:
		return true
	case progressNever:
		return false
	}
	fi, err := w.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// bar draws "label [#####-----] 5000/10000 1.2s" on w every 200 ms until
// stopped, then leaves its final state on a line of its own. Without a
// terminal it draws nothing but the final line.
type bar struct {
	w     io.Writer
	live  bool
	label string
	total int64
	value func() int64
	start time.Time
	quit  chan struct{}
	wg    sync.WaitGroup
}

func startBar(w io.Writer, live bool, label string, total int64, value func() int64) *bar {
	b := &bar{w: w, live: live, label: label, total: total, value: value, start: time.Now(), quit: make(chan struct{})}
	if live {
		b.wg.Go(func() {
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-b.quit:
					return
				case <-t.C:
					fmt.Fprintf(b.w, "\r%s", b.line(b.value()))
				}
			}
		})
	}
	return b
}

// stop ends the bar with a final line, e.g. "… done" or "… timed out".
func (b *bar) stop(note string) { b.stopAt(b.value(), note) }

// stopAt is stop with the final value given (progress notes may lag).
func (b *bar) stopAt(v int64, note string) {
	close(b.quit)
	b.wg.Wait()
	prefix := ""
	if b.live {
		prefix = "\r"
	}
	fmt.Fprintf(b.w, "%s%s %s\n", prefix, b.line(v), note)
}

func (b *bar) line(v int64) string {
	const width = 30
	filled := 0
	if b.total > 0 {
		filled = int(min(v, b.total) * width / b.total)
	}
	return fmt.Sprintf("%-22s [%s%s] %d/%d %5.1fs", b.label,
		strings.Repeat("#", filled), strings.Repeat("-", width-filled), v, b.total, time.Since(b.start).Seconds())
}
