/** French keywords of the flow language. */
import type { KeywordTable } from './keyword-table.js';
import { frValidation } from './fr-validation.js';

/** French (français); words without accents are accepted as well. */
export const fr: KeywordTable = {
  language: 'fr',
  name: 'French',
  words: {
    machine: ['machine'], accepts: ['accepte'], implements: ['implémente', 'implemente'], flows: ['flots'], flow: ['flot'],
    subscribes: ['abonne'], on: ['sur'], run: ['execute'], goto: ['saute'], launch: ['lance'], decide: ['décide', 'decide'],
    when: ['quand'], otherwise: ['sinon'], compute: ['calcule'], set: ['affecte'], fail: ['échoue', 'echoue'], ask: ['demande'],
    using: ['utilisant'], from: ['auprès', 'aupres'], with: ['avec'], task: ['tâche', 'tache'], returns: ['renvoie'], as: ['comme'],
    assuming: ['supposant'], action: ['action'], call: ['appelle'],
    wait: ['attends'], emit: ['émets', 'emets'], for: ['pendant'], until: ['jusque'], required: ['est requis'], default: ['défaut', 'defaut'],
    schedule: ['planifie'], every: ['chaque'], in: ['fuseau'],
    text: ['texte'], number: ['nombre'], boolean: ['booléen', 'booleen'], map: ['dictionnaire'], list: ['liste'], any: ['quelconque'],
  },
  messages: {
    expected: '{expected} attendu, trouvé {found}',
    indentation: 'indentation incohérente : cette ligne ne correspond à aucun bloc ({found})',
    unclosed: '{what} non fermé',
    duplicate: '{what} « {name} » est déjà défini à la ligne {line}',
    unknownFlow: 'flot inconnu « {name} » ; flots de la machine : {known}',
    unknownLanguage: 'langue inconnue « {found} » ; langues connues : {known}',
    invalid: '{message}',
    didYouMean: 'vouliez-vous dire « {name} » ?',
    words: { endOfLine: 'la fin de la ligne', aStatement: 'une instruction', aName: 'un nom', aString: 'une chaîne entre guillemets', anExpression: 'une expression', aType: 'un type', aValue: 'une valeur', nothing: 'rien' },
  },
  validation: frValidation,
};
