package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/hf-micro/hf-micro/internal/auth"
)

// The budget scenario: three more hf-micro processes serve the drop-in whoami-v2 to a caller with a client
// key from an access file: "key" with no limits (budgets off), "budget-mem" with a limit counted in memory,
// and "budget-redis" with the same limit counted in a redis-server on loopback (the shared store, pinned
// with the upstream). The limit is never reached, so every request is counted and forwarded: the difference
// in proxy CPU per request is the cost of counting.

// budgetTargetNames are the scenario's targets; "key" is what the other two are compared to.
var budgetTargetNames = []string{"key", "budget-mem", "budget-redis"}

// startBudgetServers starts redis-server and the three hf-micro processes, at the addresses in d.results.Addrs.
func (d *driver) startBudgetServers(ctx context.Context) error {
	o, a := d.opts, d.results.Addrs
	redisServer, err := exec.LookPath("redis-server")
	if err != nil {
		return fmt.Errorf("the budget scenario needs redis-server (Debian package redis-server; bench/run.sh installs it)")
	}
	_, redisPort, _ := net.SplitHostPort(a["redis"])
	d.redis, err = start("redis", d.upstreamCPU, env(), o.work, filepath.Join(o.work, "redis.log"), redisServer,
		"--bind", "127.0.0.1", "--port", redisPort, "--save", "", "--appendonly", "no")
	if err != nil {
		return err
	}
	d.add(d.redis)
	if err := waitFor(ctx, d.redis, "redis listening on "+a["redis"], dialOK(a["redis"])); err != nil {
		return err
	}

	d.budgetKey = auth.GenerateKey()
	block := fmt.Sprintf("[[key]]\nname = \"bench\"\nsha256 = %q\nread = [\"*\"]\n", auth.KeyDigest(d.budgetKey))
	plain, limited := filepath.Join(o.work, "access-key.toml"), filepath.Join(o.work, "access-budget.toml")
	if err := os.WriteFile(plain, []byte(block), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(limited, []byte("[defaults]\nlimits = { api = \"1000000000/1h\" }\n\n"+block), 0o600); err != nil {
		return err
	}
	for _, s := range []struct {
		name  string
		procp **proc
		extra []string
	}{
		{"key", &d.hfMicroKey, []string{"HF_MICRO_ACCESS_FILE=" + plain}},
		{"budget-mem", &d.hfMicroBudget, []string{"HF_MICRO_ACCESS_FILE=" + limited}},
		{"budget-redis", &d.hfMicroRedis, []string{"HF_MICRO_ACCESS_FILE=" + limited, "HF_MICRO_REDIS_URL=redis://" + a["redis"]}},
	} {
		addr := a["hf-micro-"+s.name]
		p, err := start("hf-micro-"+s.name, d.serverCPU, append(d.hfMicroEnv(addr, true), s.extra...), o.work,
			filepath.Join(o.work, "hf-micro-"+s.name+".log"), o.hfMicro, "serve")
		if err != nil {
			return err
		}
		*s.procp = d.add(p)
		if err := waitFor(ctx, p, p.name+" listening on "+addr, dialOK(addr)); err != nil {
			return err
		}
	}
	return nil
}

// budgetTargets are the scenario's targets: the drop-in whoami-v2 with the key.
func (d *driver) budgetTargets() []target {
	a := d.results.Addrs
	procs := map[string]*proc{"key": d.hfMicroKey, "budget-mem": d.hfMicroBudget, "budget-redis": d.hfMicroRedis}
	labels := map[string]string{"key": "hf-micro drop-in with a client key, no limits (budgets off)",
		"budget-mem": "the same with a budget counted in memory", "budget-redis": "the same with a budget counted in Redis on loopback"}
	var out []target
	for _, name := range budgetTargetNames {
		out = append(out, target{name: name, label: labels[name], url: "http://" + a["hf-micro-"+name] + "/api/whoami-v2",
			header: "Authorization: Bearer " + d.budgetKey, proc: procs[name]})
	}
	return out
}

// renderBudgets is the report's section on the cost of budgets, from the main phase.
func (d *driver) renderBudgets(p func(string, ...any)) {
	p("## Budgets: what counting costs\n\n")
	p("The drop-in `GET /api/whoami-v2` with a client key from an access file, upstream answering at once: `key` has no " +
		"limits (budgets off), `budget-mem` a limit counted in memory, `budget-redis` the same limit counted in a " +
		"redis-server on loopback (one script call per request; redis-server pinned with the upstream, so its own CPU " +
		"is not in the proxy's). The limit is never reached: every request is counted and reaches the upstream.\n\n")
	p("| conns | key CPU µs/req | budget-mem CPU µs/req | vs key | budget-redis CPU µs/req | vs key | key req/s | budget-mem req/s | budget-redis req/s | errors |\n")
	p("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, conns := range []int{1, 32} {
		k, m, r := d.agg("main", "key", conns), d.agg("main", "budget-mem", conns), d.agg("main", "budget-redis", conns)
		p("| %d | %.1f | %.1f | %s | %.1f | %s | %.0f | %.0f | %.0f | %d |\n", conns, k.proxyCPU, m.proxyCPU, ratio(m.proxyCPU, k.proxyCPU),
			r.proxyCPU, ratio(r.proxyCPU, k.proxyCPU), k.rps, m.rps, r.rps, k.errs+m.errs+r.errs)
	}
	p("\n")
}
