package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/store"
)

// killActions proves the Kaspi writes exactly once under kill -9: with
// KASPI_AUTO_ACCEPT and a cancel stage, fetch_new and reconcile are killed
// the moment the fake Kaspi has received a status change (its answer in
// flight or just read, the outcome not yet recorded), then clean runs
// finish. No order may get the same status change twice, every waiting
// order ends accepted, every deal moved to the cancel stage ends with its
// order cancelled, and no action is left unsettled.
func (c *chaos) killActions(ctx context.Context, w *world) (string, error) {
	n := 60
	if c.o.short {
		n = 20
	}
	w.addOrders(n)
	waiting := 0
	for _, o := range w.sb.Kaspi.Orders() {
		if o.Status == domain.StatusApprovedByBank {
			waiting++
		}
	}
	if err := w.appendEnv("KASPI_AUTO_ACCEPT=1", "KASPI_ACTIONS_MAX_PER_RUN=1000"); err != nil {
		return "", err
	}
	// Phase 1: the deals are made and the waiting orders accepted, killed
	// on every status change.
	killed1, err := c.killOnChanges(ctx, w, []string{"fetch_new"})
	if err != nil {
		return "", err
	}
	if _, err := w.drain(ctx, 12); err != nil {
		return "", err
	}
	// Phase 2: a manager moves every deal to «Закрыто и не реализовано».
	if err := w.appendEnv("KASPI_ACTIONS=cancel:143"); err != nil {
		return "", err
	}
	if _, err := w.run(ctx, "fetch_new"); err != nil { // the first check of the stages
		return "", err
	}
	// Kaspi allows a cancel only of an order waiting or accepted; the
	// others are refused (with a note) and must stay as they are.
	cancellable := map[string]bool{}
	for _, o := range w.sb.Kaspi.Orders() {
		cancellable[o.Code] = o.Status == domain.StatusApprovedByBank || o.Status == domain.StatusAcceptedByMerchant
	}
	time.Sleep(1100 * time.Millisecond) // amoCRM's updated_at is in seconds
	moved := 0
	for _, l := range w.sb.Amo.Leads() {
		if strings.HasPrefix(l.Name, "Kaspi Order ") {
			if err := w.sb.Amo.MoveLead(l.ID, l.PipelineID, domain.StatusLost); err != nil {
				return "", err
			}
			moved++
		}
	}
	killed2, err := c.killOnChanges(ctx, w, []string{"fetch_new", "reconcile"})
	if err != nil {
		return "", err
	}
	runs := 0
	for ; runs < 8; runs++ {
		r, err := w.run(ctx, []string{"fetch_new", "reconcile"}[runs%2])
		if err != nil {
			return "", err
		}
		if r.exit != 0 && r.exit != 1 { // 1: a warning (a refusal) is an outcome too
			return "", fmt.Errorf("clean run exited %d: %s", r.exit, lastLine(r.stderr+r.stdout))
		}
		open, err := w.unsettledActions(ctx)
		if err != nil {
			return "", err
		}
		if open == 0 && runs >= 1 {
			break
		}
	}
	what := fmt.Sprintf("%d orders (%d waiting for the merchant), %d kills on a status change while accepting and %d while cancelling %d moved deals, %d clean run(s)",
		len(w.codes), waiting, killed1, killed2, moved, runs+1)

	// Exactly once: no order got the same change twice.
	var twice []string
	seen := map[string]int{}
	for _, ch := range w.sb.Kaspi.Changes() {
		seen[ch.Code+" "+ch.Status]++
	}
	posts := 0
	for k, n := range seen {
		posts += n
		if n > 1 {
			twice = append(twice, fmt.Sprintf("%s ×%d", k, n))
		}
	}
	if len(twice) > 0 {
		return what, fmt.Errorf("status changes sent twice: %s", sample(twice))
	}
	var notCancelled []string
	refusable := 0
	for _, o := range w.sb.Kaspi.Orders() {
		if !cancellable[o.Code] {
			refusable++
			continue
		}
		if o.Status != domain.StatusCancelled {
			notCancelled = append(notCancelled, o.Code+" "+o.Status)
		}
	}
	if len(notCancelled) > 0 {
		return what, fmt.Errorf("%d orders moved to the cancel stage are not cancelled at Kaspi: %s", len(notCancelled), sample(notCancelled))
	}
	if open, err := w.unsettledActions(ctx); err != nil || open > 0 {
		return what, fmt.Errorf("unsettled Kaspi actions left: %d %v", open, err)
	}
	return what + fmt.Sprintf("; %d status changes reached Kaspi, none twice; %d orders cancelled, %d refused by their state", posts, len(w.codes)-refusable, refusable), nil
}

// killOnChanges runs the programs in turn for the rounds, each killed the
// moment the fake Kaspi has received a new status change (or after 10 s).
func (c *chaos) killOnChanges(ctx context.Context, w *world, progs []string) (int, error) {
	killed := 0
	for round := 0; round < c.o.rounds; round++ {
		prog := progs[round%len(progs)]
		seen := len(w.sb.Kaspi.Changes())
		started := time.Now()
		cmd, out, errb, err := w.start(ctx, w.trees[0], prog)
		if err != nil {
			return killed, err
		}
		stop := make(chan struct{})
		go killOnChange(w, cmd, seen, stop)
		r := finish(cmd, out, errb, started)
		close(stop)
		if r.killed {
			killed++
		} else if r.exit != 0 && r.exit != 1 && !r.busy() {
			return killed, fmt.Errorf("%s exited %d: %s", prog, r.exit, lastLine(r.stderr+r.stdout))
		}
		if c.o.verbose {
			fmt.Fprintf(os.Stderr, "    %s round %d: killed %v\n", prog, round, r.killed)
		}
	}
	return killed, nil
}

// killOnChange kills cmd as soon as the fake Kaspi has logged a status
// change after the first `seen`, or after 10 s.
func killOnChange(w *world, cmd *exec.Cmd, seen int, stop <-chan struct{}) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-stop:
			return
		case <-time.After(time.Millisecond):
		}
		if len(w.sb.Kaspi.Changes()) > seen {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			return
		}
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
}

// appendEnv adds settings to the main tree's .env.
func (w *world) appendEnv(lines ...string) error {
	f, err := os.OpenFile(filepath.Join(w.trees[0], ".env"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(strings.Join(lines, "\n") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// unsettledActions counts the Kaspi actions recorded as an intent whose
// outcome is not known yet.
func (w *world) unsettledActions(ctx context.Context) (int, error) {
	db, err := store.Open(ctx, w.db)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	rows, err := db.ActionsInState(ctx, "", domain.ActionIntent, 10000)
	return len(rows), err
}
