/**
 * One CSV writer: every CSV synclog writes goes through `writeCsv`
 * (src/export/csv-writer.ts), which quotes every field that needs it and
 * neutralizes formulas on every line of a cell. This rule reports any other way
 * in to a CSV library: an import of csv-stringify (static, dynamic, re-export or
 * require).
 */
const CSV_LIBRARY = /^csv-stringify(\/|$)/

export default {
  meta: {
    type: 'problem',
    schema: [],
    messages: {
      csv: 'Write CSV with writeCsv (src/export/csv-writer.ts): it quotes every field that needs it and neutralizes formulas on every line.',
    },
  },
  create(context) {
    const check = (node, source) => {
      if (typeof source === 'string' && CSV_LIBRARY.test(source)) context.report({ node, messageId: 'csv' })
    }
    const literal = (node) => (node?.type === 'Literal' ? node.value : undefined)
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => check(node, literal(node.source)),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => check(node, literal(node.source)),
      'CallExpression[callee.name="require"]': (node) => check(node, literal(node.arguments[0])),
    }
  },
}
