/**
 * Preloaded into a server process by bench/http-loop-delay.ts (NODE_OPTIONS `--import=THIS`): from
 * 2.5 s after start (past the warm-up), a histogram of how late the event loop runs, written as JSON
 * (milliseconds: p50, p99, max) to the file FLOWRUN_LOOP_DELAY_FILE names when the process gets SIGTERM.
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const histogram = monitorEventLoopDelay({ resolution: 1 });
setTimeout(() => histogram.enable(), 2500).unref();
process.on('SIGTERM', () => {
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  writeFileSync(process.env.FLOWRUN_LOOP_DELAY_FILE, JSON.stringify({ p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) }));
});
