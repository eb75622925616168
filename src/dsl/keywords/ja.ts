/** Japanese keywords of the flow language. */
import type { KeywordTable } from './keyword-table.js';
import { jaValidation } from './ja-validation.js';

/** Japanese (日本語). */
export const ja: KeywordTable = {
  language: 'ja',
  name: 'Japanese',
  words: {
    machine: ['マシン'], accepts: ['受け取る'], implements: ['実装'], flows: ['フロー一覧'], flow: ['フロー'],
    subscribes: ['購読'], on: ['受信'], run: ['実行'], goto: ['移動'], launch: ['起動'], decide: ['判断'],
    when: ['場合'], otherwise: ['それ以外'], compute: ['計算'], set: ['設定'], fail: ['失敗'], ask: ['質問'],
    using: ['モデル'], from: ['相手'], with: ['指示'], task: ['タスク'], returns: ['返す'], as: ['型'],
    assuming: ['仮定'], action: ['アクション'], call: ['呼出'],
    wait: ['待機'], emit: ['発行'], for: ['期間'], until: ['期限'], required: ['必須'], default: ['既定'],
    schedule: ['予定'], every: ['毎'], in: ['時間帯'],
    text: ['テキスト'], number: ['数値'], boolean: ['真偽値'], map: ['マップ'], list: ['リスト'], any: ['任意'],
  },
  messages: {
    expected: '{expected}が必要ですが、{found}がありました',
    indentation: 'インデントが不整合です: この行はどのブロックにも対応しません ({found})',
    unclosed: '{what}が閉じられていません',
    duplicate: '{what}「{name}」は{line}行目で定義済みです',
    unknownFlow: '不明なフロー「{name}」; マシンのフロー: {known}',
    unknownLanguage: '不明な言語「{found}」; 対応言語: {known}',
    invalid: '{message}',
    didYouMean: '「{name}」のことですか?',
    words: { endOfLine: '行末', aStatement: '文', aName: '名前', aString: '引用符付き文字列', anExpression: '式', aType: '型', aValue: '値', nothing: '何もない' },
  },
  validation: jaValidation,
};
