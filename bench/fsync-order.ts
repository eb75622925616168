/**
 * Checks with strace that the SQLite store acknowledges a write only after an fsync of the WAL
 * that began after the WAL was written (issue 13): a power cut cannot be simulated, but the order
 * of system calls shows whether an acknowledged write could have been lost by one. Runs
 * test/recovery/acked-writer.ts (runs 32 at a time; prints `acked <id>` when a runAction resolved)
 * under `strace -f` until it acknowledged ACKS runs, then reads the trace: at every
 * acknowledgement, every WAL write before it must be covered by an fdatasync/fsync of the WAL that
 * started after that write and returned before the acknowledgement. Also counts the fsyncs of the
 * event loop's thread (the process's main thread) and of other threads, per file.
 *
 *   node --import tsx bench/fsync-order.ts [ACKS=2000]    → one JSON line (needs strace)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const acks = Number(process.argv[2] ?? 2000);
const dir = mkdtempSync(join(tmpdir(), 'flowrun-fsync-order-'));
const trace = join(dir, 'trace.txt');
try {
  spawnSync('strace', ['-f', '-qq', '-e', 'trace=openat,pwrite64,write,fdatasync,fsync', '-o', trace, process.execPath, '--import', 'tsx', 'test/recovery/acked-writer.ts'], {
    env: { ...process.env, FLOWRUN_STORE: `sqlite:${join(dir, 'acked.db')}`, FLOWRUN_ACKED_STOP_AFTER: String(acks) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const lines = readFileSync(trace, 'utf8').split('\n');
  const mainPid = lines[0]!.split(/\s+/)[0]!;
  const fileOfFd = new Map<string, string>();
  // Per thread, the syscall it started and has not returned from yet (`<unfinished ...>`).
  const started = new Map<string, { call: string; fd: string; at: number }>();
  let lastWalWrite = -1;
  /** Index of the start of the latest WAL sync that returned. */
  let lastWalSyncStart = -1;
  let acknowledged = 0;
  let uncovered = 0;
  const syncs: Record<string, number> = {};
  const fileKind = (path: string) => (path.endsWith('-wal') ? 'wal' : path.endsWith('-shm') ? 'shm' : path.endsWith('.db') ? 'db' : 'other');
  lines.forEach((line, at) => {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) return;
    const [, pid, rest] = m as unknown as [string, string, string];
    let call: string;
    let args: string;
    let startAt = at;
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(rest);
    if (resumed) {
      const begun = started.get(pid);
      started.delete(pid);
      if (!begun) return;
      call = begun.call;
      args = begun.fd + resumed[2];
      startAt = begun.at;
    } else {
      const call0 = /^(\w+)\((.*)$/.exec(rest);
      if (!call0) return;
      call = call0[1]!;
      args = call0[2]!;
      if (rest.endsWith('<unfinished ...>')) {
        started.set(pid, { call, fd: args.replace(' <unfinished ...>', ''), at });
        return;
      }
    }
    const result = /=\s*(-?\d+)/.exec(args.slice(args.lastIndexOf(')')))?.[1];
    const fd = args.split(/[,)]/)[0]!.trim();
    if (call === 'openat') {
      const path = /"([^"]*)"/.exec(args)?.[1];
      if (path && result && Number(result) >= 0) fileOfFd.set(result, path);
    } else if (call === 'pwrite64' || call === 'write') {
      if (call === 'write' && fd === '1' && args.includes('"acked ')) {
        acknowledged++;
        if (lastWalSyncStart <= lastWalWrite) uncovered++;
      } else if (fileKind(fileOfFd.get(fd) ?? '') === 'wal') lastWalWrite = at;
    } else if (call === 'fdatasync' || call === 'fsync') {
      const kind = fileKind(fileOfFd.get(fd) ?? '');
      const key = `${pid === mainPid ? 'main' : 'other'}_thread_${call}_${kind}`;
      syncs[key] = (syncs[key] ?? 0) + 1;
      if (kind === 'wal' && result === '0' && startAt > lastWalSyncStart) lastWalSyncStart = startAt;
    }
  });
  console.log(JSON.stringify({ acknowledged, acknowledged_with_an_unsynced_wal_write_before: uncovered, syncs }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
