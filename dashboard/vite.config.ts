/**
 * Builds the dashboard into the package (`dist/dashboard/`), beside the compiled server that
 * serves it. Asset URLs are relative (`base: './'`): the server puts a `<base href>` into the page
 * for wherever it is mounted (`/ui/`, `/api/flowrun/ui/`), so one build serves every mount.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1024,
    rolldownOptions: {
      // React Flow marks itself "use client" for React Server Components; a browser bundle has no use for it.
      onLog: (level, log, handler) => (log.code === 'MODULE_LEVEL_DIRECTIVE' ? undefined : handler(level, log)),
    },
  },
  oxc: { jsx: { runtime: 'automatic' } },
  // The graph's layout worker is a module worker (`new Worker(url, {type: 'module'})`), bundled like the page.
  worker: { format: 'es' },
});
