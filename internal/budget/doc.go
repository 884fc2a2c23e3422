// Package budget holds per-principal budgets and the Hub shield (issue 14).
//
// Budgets. A Limit is a quota, "600/5m": Count requests per fixed Window. Windows are aligned to the clock
// (start = floor(now / window) * window, from the Unix epoch) rather than opened by a principal's first
// request: every replica computes the same window from its own clock, with nothing to agree on, and the
// Hub's own windows are fixed too, so both count the same kind of thing. The price of fixed windows is the
// known one: a principal can spend a budget at the end of one window and again at the start of the next.
// Store.Take counts one request and returns a Decision, which SetHeaders writes in the Hub's syntax
// (RateLimit and RateLimit-Policy, plus Retry-After on refusal), so clients that already back off on the
// Hub's headers back off on ours. A refused request is not counted.
//
// The shield. When the Hub answers 429 to a credential (the server token, or a caller's own token, keyed
// by CredentialKey: a SHA-256 digest, never the token), Shield records the bucket until the reset that
// ShieldReset reads from the reply; Shielded then tells the caller to answer 429 itself, without asking
// the Hub. Other buckets and other credentials are not affected.
//
// Stores. Memory is one process's store: a mutex and two maps, swept of ended windows and lifted shields
// once a minute. Redis is shared by every replica: one round trip per counted request (a script: INCR, and
// PEXPIRE when it creates the counter, so Redis drops ended windows itself), keys
// hf-micro:budget:<principal>:<bucket>:<window start, Unix seconds> and hf-micro:shield:<credential
// key>:<bucket> (escaped, and the shield's key expires at the reset), and a short timeout on every call.
// When Redis cannot be reached, or does not answer in time, the Redis store answers from a Memory store of
// its own: a warning is logged once per outage, Redis is tried again at most once per RetryEvery, and a line
// is logged when it is back. No request fails for it; the trade-off is that during an outage each replica
// counts alone, so N replicas allow up to N times a budget.
package budget
