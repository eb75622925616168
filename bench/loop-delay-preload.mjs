/**
 * Preloaded into a server process by bench/http-loop-delay.ts (`node --import THIS …`): from 2.5 s
 * after start (past the warm-up), a histogram of how late the event loop runs, written to stderr
 * as one line `LOOP_DELAY {json}` (milliseconds) when the process gets SIGTERM.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

const histogram = monitorEventLoopDelay({ resolution: 1 });
setTimeout(() => histogram.enable(), 2500).unref();
process.on('SIGTERM', () => {
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  process.stderr.write(`LOOP_DELAY ${JSON.stringify({ p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) })}\n`);
});
