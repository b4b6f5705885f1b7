-- wrk script: print the latency extremes and percentiles to the microsecond,
-- which wrk's own summary rounds (1.01s may be anything from 1,005 to 1,015 ms).
done = function(summary, latency, requests)
  io.write(string.format("exact latency: p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000))
  io.write(string.format("exact latency: p99.99 %.1f ms, p99.999 %.1f ms\n",
    latency:percentile(99.99) / 1000, latency:percentile(99.999) / 1000))
end
