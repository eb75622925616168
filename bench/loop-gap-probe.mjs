/**
 * Preloaded into a `flowrun serve` by bench/hostile.ts (`NODE_OPTIONS=--import <this file>`), plain
 * JavaScript so it loads before tsx. With FLOWRUN_BENCH_LOOP_GAPS=<file>: a 2 ms interval notes every
 * tick that came more than 5 ms late ("<epoch ms> <gap ms> <monotonic µs>" lines, appended every 100 ms), so the
 * bench can read the largest time the event loop was held within a window; the garbage collector's
 * pauses go to <file>.gc ("<epoch ms> <pause ms> <kind>", kind as in perf_hooks: 1 scavenge, 4 mark-compact,
 * 8 incremental marking, 16 weak callbacks). With
 * FLOWRUN_BENCH_CPU_PROFILE=<file>: SIGUSR2 starts a CPU profile, the next SIGUSR2 writes it there
 * (open it in Chrome DevTools or speedscope).
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { PerformanceObserver } from 'node:perf_hooks';

const gapsFile = process.env.FLOWRUN_BENCH_LOOP_GAPS;
if (gapsFile) {
  const everyMs = 2;
  let pending = '';
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    const late = now - last - everyMs;
    last = now;
    // The third column is the monotonic clock in µs, the time base of a CPU profile's samples.
    if (late > 5) pending += `${Date.now()} ${late.toFixed(2)} ${process.hrtime.bigint() / 1000n}\n`;
  }, everyMs).unref();
  let pendingGc = '';
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pendingGc += `${(performance.timeOrigin + e.startTime).toFixed(1)} ${e.duration.toFixed(2)} ${e.detail?.kind ?? 0}\n`;
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => {
    if (pending) appendFileSync(gapsFile, pending);
    if (pendingGc) appendFileSync(`${gapsFile}.gc`, pendingGc);
    pending = '';
    pendingGc = '';
  }, 100).unref();
}

const profileFile = process.env.FLOWRUN_BENCH_CPU_PROFILE;
if (profileFile) {
  let session = null;
  process.on('SIGUSR2', () => {
    if (!session) {
      session = new Session();
      session.connect();
      session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 200 }, () => session.post('Profiler.start')));
      return;
    }
    const s = session;
    session = null;
    s.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(profileFile, JSON.stringify(result.profile));
      s.disconnect();
    });
  });
}
