/**
 * Identifiers are data, never keys of plain objects.
 *
 * A sourcedId, tenant, school id, field name or JSON key read from input may be
 * `__proto__`, `constructor` or `toString`: on a plain object, `obj[id]` then
 * reads Object.prototype (a function, or the prototype itself) and `obj[id] = v`
 * may replace the prototype instead of adding an entry. This rule (type-aware)
 * reports:
 *
 * - `obj[key]`, read or written, where `key` is a string not known at compile
 *   time (type `string`, a template literal type or `any`) and `obj` is a plain
 *   object indexed by string (`Record<string, T>`, `{ [k: string]: T }`, `any`);
 * - `key in obj` with such a key.
 *
 * Use a `Map` (keyed by the id), `Object.entries`/`Object.fromEntries` at a JSON
 * boundary, or, for a lookup in a fixed table, guard it with `Object.hasOwn`:
 * `Object.hasOwn(TABLE, key) ? TABLE[key] : fallback` is accepted (also in
 * `Object.hasOwn(TABLE, key) && TABLE[key]` and `if (Object.hasOwn(TABLE, key)) …`).
 * Keys typed as a union of literals (`EntityType`, `keyof T`) are not input and
 * are not reported; neither are numeric indexes.
 */
import ts from 'typescript'

const ADVICE = 'use a Map, or guard a fixed-table lookup with Object.hasOwn'

/** Whether a key of this type may be any string (input), not one of a few known literals. */
function isOpenStringKey(type) {
  if (type.isUnion()) return type.types.some(isOpenStringKey)
  return (type.flags & (ts.TypeFlags.String | ts.TypeFlags.TemplateLiteral | ts.TypeFlags.Any)) !== 0
}

/** Whether the object is a plain object that a string key indexes (not an array, string, Map...). */
function isStringIndexedObject(checker, type) {
  if (type.isUnion() || type.isIntersection()) return type.types.some((t) => isStringIndexedObject(checker, t))
  if ((type.flags & ts.TypeFlags.Any) !== 0) return true
  if (checker.isArrayType(type) || checker.isTupleType(type)) return false
  if ((type.flags & ts.TypeFlags.Object) === 0) return false
  return checker.getIndexInfoOfType(type, ts.IndexKind.String) !== undefined
}

/** `Object.hasOwn(<obj>, <key>)` with the same source text as the member access. */
function isHasOwnGuard(sourceCode, test, objText, keyText) {
  if (test?.type !== 'CallExpression' || test.arguments.length !== 2) return false
  const callee = test.callee
  if (callee.type !== 'MemberExpression' || callee.computed || callee.object.type !== 'Identifier' || callee.object.name !== 'Object')
    return false
  if (callee.property.type !== 'Identifier' || callee.property.name !== 'hasOwn') return false
  return sourceCode.getText(test.arguments[0]) === objText && sourceCode.getText(test.arguments[1]) === keyText
}

function within(node, container) {
  return container !== null && container !== undefined && node.range[0] >= container.range[0] && node.range[1] <= container.range[1]
}

/** Whether an enclosing `?:`, `&&` or `if` checked `Object.hasOwn(obj, key)` before this access. */
function isGuarded(sourceCode, node, objText, keyText) {
  for (let child = node, parent = node.parent; parent; child = parent, parent = parent.parent) {
    if (
      parent.type === 'ConditionalExpression' &&
      within(child, parent.consequent) &&
      isHasOwnGuard(sourceCode, parent.test, objText, keyText)
    )
      return true
    if (
      parent.type === 'LogicalExpression' &&
      parent.operator === '&&' &&
      within(child, parent.right) &&
      isHasOwnGuard(sourceCode, parent.left, objText, keyText)
    )
      return true
    if (parent.type === 'IfStatement' && within(child, parent.consequent) && isHasOwnGuard(sourceCode, parent.test, objText, keyText))
      return true
    if (parent.type.startsWith('Function') || parent.type === 'ArrowFunctionExpression') return false
  }
  return false
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'Identifiers (ids, field names, JSON keys) must not index plain objects' },
    schema: [],
    messages: {
      member: "'{{key}}' may be any string (an id from input, '__proto__' included) indexing a plain object: {{advice}}.",
      in: "'{{key}} in …' is true for '__proto__', 'constructor', 'toString'...: use Object.hasOwn or a Map.",
    },
  },
  create(context) {
    const services = context.sourceCode.parserServices
    if (!services?.program) throw new Error('no-id-keyed-objects needs type information (parserOptions.projectService)')
    const checker = services.program.getTypeChecker()
    const typeOf = (node) => checker.getTypeAtLocation(services.esTreeNodeToTSNodeMap.get(node))
    const isLiteral = (node) => node.type === 'Literal' || (node.type === 'TemplateLiteral' && node.expressions.length === 0)

    return {
      MemberExpression(node) {
        if (!node.computed || isLiteral(node.property)) return
        if (!isOpenStringKey(typeOf(node.property))) return
        if (!isStringIndexedObject(checker, typeOf(node.object))) return
        const objText = context.sourceCode.getText(node.object)
        const keyText = context.sourceCode.getText(node.property)
        if (isGuarded(context.sourceCode, node, objText, keyText)) return
        context.report({ node, messageId: 'member', data: { key: keyText, advice: ADVICE } })
      },
      BinaryExpression(node) {
        if (node.operator !== 'in' || node.left.type === 'PrivateIdentifier' || isLiteral(node.left)) return
        if (!isOpenStringKey(typeOf(node.left))) return
        context.report({ node, messageId: 'in', data: { key: context.sourceCode.getText(node.left) } })
      },
    }
  },
}
