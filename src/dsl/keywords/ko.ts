/** Korean keywords of the flow language. */
import type { KeywordTable } from './keyword-table.js';
import { koValidation } from './ko-validation.js';

/** Korean (한국어). */
export const ko: KeywordTable = {
  language: 'ko',
  name: 'Korean',
  words: {
    machine: ['머신'], accepts: ['받음'], implements: ['구현'], flows: ['흐름목록'], flow: ['흐름'],
    subscribes: ['구독'], on: ['수신'], run: ['실행'], goto: ['이동'], launch: ['시작'], decide: ['결정'],
    when: ['경우'], otherwise: ['그외'], compute: ['계산'], set: ['설정'], fail: ['실패'], ask: ['질문'],
    using: ['모델'], from: ['대상'], with: ['함께'], task: ['작업'], returns: ['반환'], as: ['타입'],
    assuming: ['가정'], action: ['액션'], call: ['호출'],
    wait: ['대기'], emit: ['발행'], for: ['기간'], until: ['까지'], required: ['필수'], default: ['기본값'],
    schedule: ['예약'], every: ['매'], in: ['시간대'],
    text: ['텍스트'], number: ['숫자'], boolean: ['불리언'], map: ['맵'], list: ['리스트'], any: ['임의'],
  },
  messages: {
    expected: '{expected}이(가) 필요하지만 {found}이(가) 있습니다',
    indentation: '들여쓰기가 일관되지 않습니다: 이 줄은 어떤 블록에도 속하지 않습니다 ({found})',
    unclosed: '{what}이(가) 닫히지 않았습니다',
    duplicate: '{what} "{name}"은(는) {line}번째 줄에 이미 정의되어 있습니다',
    unknownFlow: '알 수 없는 흐름 "{name}"; 머신의 흐름: {known}',
    unknownLanguage: '알 수 없는 언어 "{found}"; 지원 언어: {known}',
    invalid: '{message}',
    didYouMean: '"{name}"을(를) 의도했나요?',
    words: { endOfLine: '줄 끝', aStatement: '문장', aName: '이름', aString: '따옴표 문자열', anExpression: '식', aType: '타입', aValue: '값', nothing: '없음' },
  },
  validation: koValidation,
};
