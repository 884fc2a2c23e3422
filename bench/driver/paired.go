package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
)

// pairedTargets are the targets whose CPU per request is compared as ratios (issue 16's target); the relinked
// baseline joins them in the paired phase only.
var pairedTargets = []string{"account", "baseline", "floor"}

// pairedPhase measures account, baseline, floor and the relinked baseline in short runs back to back, many
// times over, at 1 and 32 connections. This machine's speed drifts by tens of per cent within a minute, which
// moves the main phase's medians (its runs of one target are minutes apart); runs a few seconds apart see the
// same machine, so their ratio, taken pair by pair, is what the CPU targets are judged on.
func (d *driver) pairedPhase(ctx context.Context, targets []target) error {
	var paired []target
	for _, t := range targets {
		if slices.Contains(pairedTargets, t.name) {
			paired = append(paired, t)
		}
	}
	paired = append(paired, d.relinkedTarget())
	o := d.opts
	fmt.Fprintf(os.Stderr, "== paired phase: %d pairs x %v x %s/relinked, %s each after a %s warm-up\n",
		o.pairs, []int{1, 32}, strings.Join(pairedTargets, "/"), o.pairDuration, o.pairDuration/4)
	for _, conns := range []int{1, 32} {
		for pair := 1; pair <= o.pairs; pair++ {
			// Each target goes first in turn, so none always runs on a machine just warmed by another.
			order := append(slices.Clone(paired[pair%len(paired):]), paired[:pair%len(paired)]...)
			for _, t := range order {
				r, err := d.measure(ctx, "paired", t, conns, pair, o.pairDuration/4, o.pairDuration)
				if err != nil {
					return err
				}
				d.results.Runs = append(d.results.Runs, r)
			}
		}
	}
	return nil
}

// pairRatios are, pair by pair (or round by round) of a phase, a target's proxy CPU per request over a
// reference's.
func (d *driver) pairRatios(phase, name, ref string, conns int) []float64 {
	cpu := map[string]map[int]float64{name: {}, ref: {}}
	for _, r := range d.results.Runs {
		if r.Phase == phase && r.Conns == conns && cpu[r.Target] != nil {
			cpu[r.Target][r.Round] = r.ProxyCPU
		}
	}
	var rounds []int
	for round := range cpu[name] {
		rounds = append(rounds, round)
	}
	slices.Sort(rounds)
	var out []float64
	for _, round := range rounds {
		if a, b := cpu[name][round], cpu[ref][round]; a > 0 && b > 0 {
			out = append(out, a/b)
		}
	}
	return out
}

// listRatios writes ratios as "0.93×, 1.01×, ...".
func listRatios(v []float64) string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = fmt.Sprintf("%.2f×", x)
	}
	return strings.Join(out, ", ")
}
