package sqlite

import (
	"bufio"
	"context"
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
	path := filepath.Join(t.TempDir(), "facereg.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
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

// TestMain runs the writer process of TestSurvivesKill when started by it
// (a child of the test binary with killHelperEnv set): it writes until killed.
func TestMain(m *testing.M) {
	if path := os.Getenv(killHelperEnv); path != "" {
		killHelper(path)
		return
	}
	os.Exit(m.Run())
}

func killHelper(path string) {
	ctx := context.Background()
	d, err := Open(ctx, path, seal.Nop{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i := 0; ; i++ {
		id := fmt.Sprintf("tx-%08d", i)
		if err := d.AddTransaction(ctx, &facereg.Transaction{ID: id, TenantID: "t", Operation: "x", Outcome: "success"}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("acked %s\n", id)
	}
}
