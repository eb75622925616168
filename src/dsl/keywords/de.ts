/** German keywords of the flow language. */
import type { KeywordTable } from './keyword-table.js';
import { deValidation } from './de-validation.js';

/** German (Deutsch); `ae`/`oe`/`ue` spellings are accepted for umlauts. */
export const de: KeywordTable = {
  language: 'de',
  name: 'German',
  words: {
    machine: ['maschine'], accepts: ['akzeptiert'], implements: ['implementiert'], flows: ['abläufe', 'ablaeufe'], flow: ['ablauf'],
    subscribes: ['abonniert'], on: ['bei'], run: ['starte'], goto: ['springe'], launch: ['stoße_an', 'stosse_an'], decide: ['entscheide'],
    when: ['wenn'], otherwise: ['sonst'], compute: ['berechne'], set: ['setze'], fail: ['scheitere'], ask: ['frage'],
    using: ['mittels'], from: ['von'], with: ['mit'], task: ['aufgabe'], returns: ['liefert'], as: ['als'],
    assuming: ['angenommen'], action: ['aktion'], call: ['rufe'],
    wait: ['warte'], emit: ['sende'], for: ['für', 'fuer'], until: ['bis'], required: ['ist erforderlich'], default: ['standard'],
    schedule: ['plane'], every: ['alle'], in: ['zeitzone'],
    text: ['text'], number: ['zahl'], boolean: ['wahrheitswert'], map: ['zuordnung'], list: ['liste'], any: ['beliebig'],
  },
  messages: {
    expected: 'erwartet: {expected}, gefunden: {found}',
    indentation: 'uneinheitliche Einrückung: diese Zeile passt zu keinem Block ({found})',
    unclosed: '{what} nicht geschlossen',
    duplicate: '{what} „{name}“ ist bereits in Zeile {line} definiert',
    unknownFlow: 'unbekannter Ablauf „{name}“; Abläufe der Maschine: {known}',
    unknownLanguage: 'unbekannte Sprache „{found}“; bekannte Sprachen: {known}',
    invalid: '{message}',
    didYouMean: 'meinten Sie „{name}“?',
    words: { endOfLine: 'das Zeilenende', aStatement: 'eine Anweisung', aName: 'einen Namen', aString: 'eine Zeichenkette in Anführungszeichen', anExpression: 'einen Ausdruck', aType: 'einen Typ', aValue: 'einen Wert', nothing: 'nichts' },
  },
  validation: deValidation,
};
