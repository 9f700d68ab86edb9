package wstest

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestStartBinaryKeepsTheLogAndTheExit runs a shell as the "server": it
// logs lines before and after its serving line and exits with 3.
func TestStartBinaryKeepsTheLogAndTheExit(t *testing.T) {
	t.Parallel()
	p := StartBinary(t, "sh", "-c", `echo starting >&2
echo '{"msg":"serving","addr":"127.0.0.1:1"}' >&2
i=0; while [ $i -lt 100 ]; do echo "line $i" >&2; i=$((i+1)); done
exit 3`)
	if p.Addr != "127.0.0.1:1" {
		t.Fatalf("Addr = %q", p.Addr)
	}
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done not closed after the process exited")
	}
	for range 10 { // once over, Wait(0) reports the exit, never a deadline
		var exit *exec.ExitError
		if err := p.Wait(0); !errors.As(err, &exit) || exit.ExitCode() != 3 {
			t.Fatalf("Wait(0) = %v, want exit status 3", err)
		}
	}
	if got, want := p.LogTail(2), "line 98\nline 99"; got != want {
		t.Fatalf("LogTail(2) = %q, want %q", got, want)
	}
	if got := p.LogTail(1000); !strings.HasPrefix(got, `{"msg":"serving"`) || strings.Contains(got, "starting") {
		t.Fatalf("LogTail(1000) should start at the serving line: %q", got)
	}
}
