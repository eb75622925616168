#!/usr/bin/env bash
# The package as a user installs it: `npm pack`, install the tarball into a scratch app, then
#   1. type-check an app that imports every subpath export with skipLibCheck: false,
#   2. run a flow with the installed package (memory store),
#   3. start `npx flowrun --help` and `npx flowrun check` on an example.
# It needs a built package (the `prepare` script builds it inside `npm pack`) and the npm
# registry or cache, so it runs as its own CI step after `npm test`, not inside Vitest.
# Usage: bash scripts/check-package.sh [scratch-dir]   (exit non-zero on the first failure)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
scratch="${1:-$(mktemp -d -t flowrun-package-XXXXXX)}"
mkdir -p "$scratch"
step() { printf '  package: %s\n' "$*"; }

step "npm pack"
tarball="$(cd "$root" && npm pack --silent --pack-destination "$scratch" | tail -1)"
tarball="$scratch/$tarball"

step "what the tarball holds"
listing="$(tar -tzf "$tarball")"
if grep -q '\.map$' <<<"$listing"; then echo "the package ships source maps without their sources"; exit 1; fi
for required in package/LICENSE package/README.md package/bin/flowrun.js package/dist/index.js package/dist/index.d.ts; do
  grep -qx "$required" <<<"$listing" || { echo "the package lacks $required"; exit 1; }
done

app="$scratch/app"
rm -rf "$app" && mkdir -p "$app/src"
cd "$app"
cat > package.json <<'JSON'
{ "name": "flowrun-package-check", "private": true, "type": "module" }
JSON
# The app's own TypeScript toolchain, at the versions this repository tests with; nothing else
# of flowrun's devDependencies (their types must not be needed by flowrun's .d.ts files).
ts_version="$(node -p "require('$root/package.json').devDependencies.typescript")"
node_types="$(node -p "require('$root/package.json').devDependencies['@types/node']")"
# `ai` is the optional peer that `flowrun/ai-sdk` needs; an app importing that subpath has it,
# and with skipLibCheck: false also @types/json-schema, which the AI SDK's own .d.ts files import.
ai_version="$(node -p "require('$root/package.json').devDependencies.ai")"
step "npm install the tarball (+ typescript@$ts_version, @types/node@$node_types, ai@$ai_version)"
# --ignore-scripts: better-sqlite3's native build is not what this checks (the memory store runs
# the flow); it also keeps the step short. --prefer-offline: CI's npm ci filled the cache.
npm install --no-audit --no-fund --prefer-offline --ignore-scripts --loglevel=error \
  "$tarball" "typescript@$ts_version" "@types/node@$node_types" "ai@$ai_version" "@types/json-schema@7" >/dev/null

cat > tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "skipLibCheck": false,
    "noEmit": true,
    "types": ["node"]
  },
  "include": ["src"]
}
JSON
cat > src/every-subpath.ts <<'TS'
import { createEngine, createMemoryStores, defineFlow, compileFlow, type FlowDefinition } from 'flowrun';
import { createClient, type FlowClient } from 'flowrun/client';
import { createFlowApiRouter } from 'flowrun/server';
import { testModule } from 'flowrun/testing';
import { aiSdkModelResolver } from 'flowrun/ai-sdk';

export const used = [createEngine, createMemoryStores, defineFlow, compileFlow, createClient, createFlowApiRouter, testModule, aiSdkModelResolver];
export type Used = [FlowDefinition, FlowClient];
TS
step "tsc --noEmit with skipLibCheck: false"
npx --no-install tsc -p tsconfig.json

cat > run-a-flow.mjs <<'JS'
import { runAction, createMemoryStores, defineFlow } from 'flowrun';

const flow = defineFlow({
  id: 'greet',
  actions: {
    main: {
      params: { name: { type: 'text', required: true } },
      startAt: 'greet',
      steps: { greet: { stepType: 'COMPUTE', expression: '{greeting: "hello " + input.name}' } },
    },
  },
});
const result = await runAction({ flow, actionName: 'main', input: { name: 'ada' }, userId: 'package-check', stores: createMemoryStores() });
if (result.status !== 'SUCCEEDED' || result.output?.greeting !== 'hello ada') throw new Error(`unexpected result: ${JSON.stringify(result)}`);
console.log(`  package: the flow said ${JSON.stringify(result.output)}`);
JS
step "run a flow with the installed package"
node run-a-flow.mjs

step "require('flowrun') from CommonJS (Node >= 20.19, the engines floor, loads ES modules with require)"
node -e "const { runAction } = require('flowrun'); if (typeof runAction !== 'function') process.exit(1)" 2>/dev/null

step "without the optional peer pg, a PostgreSQL store names the install command"
node --input-type=module -e "
import { createPostgresStores } from 'flowrun';
const stores = createPostgresStores({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
const error = await stores.listFlows().then(() => null, (e) => e);
if (!error || !String(error.message).includes('npm install pg')) { console.error('unexpected:', error); process.exit(1); }
"

step "npx flowrun --help, npx flowrun check"
npx --no-install flowrun --help | grep -q 'Usage: flowrun'
cp "$root/examples/order-intake.flow" .
npx --no-install flowrun check order-intake.flow
step "ok ($tarball)"
