// Build step: writes dist/flow.schema.json (exported as `flowrun/flow.schema.json`), the JSON Schema
// of a flow definition, generated from the zod shape the validator takes its fields from
// (src/core/validation/flow-shape.ts). Runs after tsc, on the compiled module.
import { writeFileSync } from 'node:fs';
import { flowJsonSchema } from '../dist/core/validation/flow-shape.js';

const target = new URL('../dist/flow.schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(flowJsonSchema(), null, 2)}\n`);
