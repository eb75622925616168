/** Spanish keywords of the flow language. */
import type { KeywordTable } from './keyword-table.js';
import { esValidation } from './es-validation.js';

/** Spanish (español); words without accents are accepted as well. */
export const es: KeywordTable = {
  language: 'es',
  name: 'Spanish',
  words: {
    machine: ['máquina', 'maquina'], accepts: ['acepta'], implements: ['implementa'], flows: ['flujos'], flow: ['flujo'],
    subscribes: ['suscribe'], on: ['en'], run: ['ejecuta'], goto: ['salta'], launch: ['lanza'], decide: ['decide'],
    when: ['cuando'], otherwise: ['sino'], compute: ['calcula'], set: ['asigna'], fail: ['falla'], ask: ['pregunta'],
    using: ['usando'], from: ['desde'], with: ['con'], task: ['tarea'], returns: ['devuelve'], as: ['como'],
    assuming: ['suponiendo'], action: ['acción', 'accion'], call: ['llama'],
    wait: ['espera'], emit: ['emite'], for: ['durante'], until: ['hasta'], required: ['es obligatorio'], default: ['predeterminado'],
    schedule: ['programa'], every: ['cada'], in: ['zona'],
    text: ['texto'], number: ['número', 'numero'], boolean: ['booleano'], map: ['mapa'], list: ['lista'], any: ['cualquiera'],
  },
  messages: {
    expected: 'se esperaba {expected}, se encontró {found}',
    indentation: 'sangría incoherente: esta línea no corresponde a ningún bloque ({found})',
    unclosed: '{what} sin cerrar',
    duplicate: '{what} "{name}" ya está definido en la línea {line}',
    unknownFlow: 'flujo desconocido "{name}"; flujos de la máquina: {known}',
    unknownLanguage: 'idioma desconocido "{found}"; idiomas conocidos: {known}',
    invalid: '{message}',
    didYouMean: '¿quiso decir "{name}"?',
    words: { endOfLine: 'el final de la línea', aStatement: 'una instrucción', aName: 'un nombre', aString: 'un texto entre comillas', anExpression: 'una expresión', aType: 'un tipo', aValue: 'un valor', nothing: 'nada' },
  },
  validation: esValidation,
};
