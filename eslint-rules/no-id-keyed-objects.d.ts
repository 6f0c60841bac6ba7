import type { Rule } from 'eslint'

/** See no-id-keyed-objects.js: identifiers must not index plain objects. */
declare const rule: Rule.RuleModule
export default rule
