package sqlite

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/seal"
)

const killHelperEnv = "FACEREG_SQLITE_KILL_HELPER"

// TestSurvivesKill: every write acknowledged before a kill -9 is there
// after reopening.
func TestSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	path := filepath.Join(t.TempDir(), "facereg.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), killHelperEnv+"="+path)
	out, err := cmd.StdoutPipe()
	must(t, err)
	cmd.Stderr = os.Stderr
	must(t, cmd.Start())
	var acked []string
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(30 * time.Second)
	for len(acked) < 200 && time.Now().Before(deadline) && sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
			acked = append(acked, id)
		}
	}
	must(t, cmd.Process.Kill())
	cmd.Wait()
	if len(acked) < 200 {
		t.Fatalf("helper acknowledged only %d writes", len(acked))
	}

	d := open(t, path, seal.Nop{})
	for _, id := range acked {
		if _, err := d.Transaction(t.Context(), "t", id); err != nil {
			t.Fatalf("acknowledged write %s lost after kill: %v", id, err)
		}
	}
}

// TestKillHelper writes until killed, when run by TestSurvivesKill.
func TestKillHelper(t *testing.T) {
	path := os.Getenv(killHelperEnv)
	if path == "" {
		t.Skip("helper process of TestSurvivesKill")
	}
	d, err := Open(t.Context(), path, seal.Nop{})
	must(t, err)
	for i := 0; ; i++ {
		id := fmt.Sprintf("tx-%08d", i)
		must(t, d.AddTransaction(t.Context(), &facereg.Transaction{ID: id, TenantID: "t", Operation: "x", Outcome: "success"}))
		fmt.Printf("acked %s\n", id)
	}
}
