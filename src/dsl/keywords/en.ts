/** English keywords of the flow language (the seed's own spelling). */
import { VALIDATION_MESSAGES } from '../../core/validation/messages.js';
import type { KeywordTable } from './keyword-table.js';

/** English: the language of the seed's examples. */
export const en: KeywordTable = {
  language: 'en',
  name: 'English',
  words: {
    machine: ['machine'], accepts: ['accepts'], implements: ['implements'], flows: ['flows'], flow: ['flow'],
    subscribes: ['subscribes'], on: ['on'], run: ['run'], goto: ['goto'], launch: ['launch'], decide: ['decide'],
    when: ['when'], otherwise: ['otherwise'], compute: ['compute'], set: ['set'], fail: ['fail'], ask: ['ask'],
    using: ['using'], from: ['from'], with: ['with'], task: ['task'], returns: ['returns'], as: ['as'],
    assuming: ['assuming'], action: ['action'], call: ['call'],
    wait: ['wait'], emit: ['emit'], for: ['for'], until: ['until'], required: ['is required'], default: ['default'],
    schedule: ['schedule'], every: ['every'], in: ['in'],
    text: ['text'], number: ['number'], boolean: ['boolean'], map: ['map'], list: ['list'], any: ['any'],
  },
  messages: {
    expected: 'expected {expected}, found {found}',
    indentation: 'inconsistent indentation: this line matches no enclosing block ({found})',
    unclosed: 'unclosed {what}',
    duplicate: '{what} "{name}" is already defined on line {line}',
    unknownFlow: 'unknown flow "{name}"; the machine\'s flows: {known}',
    unknownLanguage: 'unknown language "{found}"; known languages: {known}',
    invalid: '{message}',
    didYouMean: 'did you mean "{name}"?',
    words: { endOfLine: 'the end of the line', aStatement: 'a statement', aName: 'a name', aString: 'a quoted string', anExpression: 'an expression', aType: 'a type', aValue: 'a value', nothing: 'nothing' },
  },
  validation: VALIDATION_MESSAGES,
};
