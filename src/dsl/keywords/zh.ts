/** Chinese keywords of the flow language. */
import type { KeywordTable } from './keyword-table.js';
import { zhValidation } from './zh-validation.js';

/** Chinese (中文, simplified). */
export const zh: KeywordTable = {
  language: 'zh',
  name: 'Chinese',
  words: {
    machine: ['机器'], accepts: ['接受'], implements: ['实现'], flows: ['流程组'], flow: ['流程'],
    subscribes: ['订阅'], on: ['收到'], run: ['运行'], goto: ['跳转'], launch: ['启动'], decide: ['决定'],
    when: ['如果'], otherwise: ['否则'], compute: ['计算'], set: ['设置'], fail: ['失败'], ask: ['询问'],
    using: ['模型'], from: ['来自'], with: ['附带'], task: ['任务'], returns: ['返回'], as: ['类型'],
    assuming: ['假设'], action: ['动作'], call: ['调用'],
    wait: ['等待'], emit: ['发布'], for: ['时长'], until: ['直到'], required: ['必填'], default: ['默认'],
    schedule: ['定时'], every: ['每隔'], in: ['时区'],
    text: ['文本'], number: ['数字'], boolean: ['布尔'], map: ['映射'], list: ['列表'], any: ['任意'],
  },
  messages: {
    expected: '应为{expected}，实际为{found}',
    indentation: '缩进不一致：此行不属于任何块（{found}）',
    unclosed: '{what}未闭合',
    duplicate: '{what}“{name}”已在第{line}行定义',
    unknownFlow: '未知流程“{name}”；机器的流程：{known}',
    unknownLanguage: '未知语言“{found}”；已知语言：{known}',
    invalid: '{message}',
    didYouMean: '您是指“{name}”吗？',
    words: { endOfLine: '行尾', aStatement: '语句', aName: '名称', aString: '带引号的字符串', anExpression: '表达式', aType: '类型', aValue: '值', nothing: '无' },
  },
  validation: zhValidation,
};
