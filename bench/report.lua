-- wrk script: after the run, print one line "BENCHJSON {...}" with what the benchmark driver reads.
-- Latencies are in microseconds; "status" counts answers >= 400 (wrk's "Non-2xx or 3xx responses").
-- No request() function: wrk keeps sending its one pre-built request, as without a script.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,'
      .. '"mean_us":%.1f,"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
