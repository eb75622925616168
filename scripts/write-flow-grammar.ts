/** `npm run grammar`: writes editors/vscode/flowrun.tmLanguage.json from the keyword tables (see flow-grammar.ts). */
import { writeFileSync } from 'node:fs';
import { flowGrammarText } from './flow-grammar.js';

writeFileSync(new URL('../editors/vscode/flowrun.tmLanguage.json', import.meta.url), flowGrammarText());
