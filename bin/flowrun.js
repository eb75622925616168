#!/usr/bin/env node
// The `flowrun` command. The compiled CLI lives in dist/ (built by `npm ci` through the
// `prepare` script); this file only hands it the process.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
