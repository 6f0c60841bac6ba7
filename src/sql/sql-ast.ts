/**
 * ClickHouse's own parse of a query, as `EXPLAIN AST` prints it: one node per
 * line, indented by depth, `Kind [name] [(alias a)] [(children n)]`. synclog
 * reads the tree rather than the SQL text, so comments, case, spacing and
 * quoting tricks are already resolved by the engine's parser.
 */

export interface AstNode {
  /** `SelectWithUnionQuery`, `TableIdentifier`, `Function`, `Set`, … */
  readonly kind: string
  /** What follows the kind: a table or function name, a literal. */
  readonly text: string
  readonly children: AstNode[]
  readonly parent: AstNode | undefined
}

const DECORATIONS = /\s+\((?:children \d+|alias [^)]*)\)/g

/** The tree of `EXPLAIN AST` output (TabSeparatedRaw: one line per node). */
export function parseAstDump(dump: string): AstNode | undefined {
  let root: AstNode | undefined
  const stack: { node: AstNode; depth: number }[] = []
  for (const line of dump.split('\n')) {
    if (line.trim() === '') continue
    const depth = line.length - line.trimStart().length
    const body = line.trim().replace(DECORATIONS, '')
    const space = body.indexOf(' ')
    const kind = space < 0 ? body : body.slice(0, space)
    const text = space < 0 ? '' : body.slice(space + 1).trim()
    while (stack.length > 0 && stack[stack.length - 1]!.depth >= depth) stack.pop()
    const parent = stack[stack.length - 1]?.node
    const node: AstNode = { kind, text, children: [], parent }
    if (parent === undefined) {
      if (root !== undefined) return undefined
      root = node
    } else {
      parent.children.push(node)
    }
    stack.push({ node, depth })
  }
  return root
}

export function* walk(node: AstNode): Generator<AstNode> {
  yield node
  for (const child of node.children) yield* walk(child)
}
