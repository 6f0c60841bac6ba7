/**
 * Columns of a CSV file matched by header name (any order), and the typed view
 * of one row: scalars as sent (empty → null), lists split on commas with items
 * trimmed and empty items dropped, `metadata.*` extension columns by their name.
 */
import { SynclogError } from '../errors.js'
import { dictOf, setOwn } from '../dict.js'

const NO_METADATA: Readonly<Record<string, string>> = Object.freeze(dictOf<string>([]))

export interface RowValues {
  /** The value as sent, null when blank or when the file has no such column. */
  text(column: string): string | null
  /** A comma-separated list; [] when blank or absent. */
  list(column: string): readonly string[]
  /** Non-blank `metadata.<key>` values by `<key>`. */
  metadata(): Readonly<Record<string, string>>
}

const METADATA_PREFIX = 'metadata.'

export function splitList(value: string | null): readonly string[] {
  if (value === null) return []
  // Most lists hold one item (a school, a grade, a term): no split needed.
  if (!value.includes(',')) {
    const item = value.trim()
    return item === '' ? [] : [item]
  }
  const items: string[] = []
  for (const item of value.split(',')) {
    const trimmed = item.trim()
    if (trimmed !== '') items.push(trimmed)
  }
  return items
}

export class Columns {
  private readonly index = new Map<string, number>()
  private readonly metadataColumns: readonly { readonly key: string; readonly at: number }[]

  constructor(
    readonly file: string,
    names: readonly string[],
  ) {
    names.forEach((name, at) => {
      if (name !== '') this.index.set(name, at)
    })
    this.metadataColumns = names.flatMap((name, at) =>
      name.startsWith(METADATA_PREFIX) && name.length > METADATA_PREFIX.length ? [{ key: name.slice(METADATA_PREFIX.length), at }] : [],
    )
  }

  has(column: string): boolean {
    return this.index.has(column)
  }

  /** Throws `INPUT_UNREADABLE` naming the file and the first missing column. */
  require(columns: readonly string[]): void {
    for (const column of columns) {
      if (!this.index.has(column))
        throw new SynclogError('INPUT_UNREADABLE', `${this.file}: required column '${column}' is missing from the header`)
    }
  }

  /**
   * Positions by the names the code asks for, filled on first use. Those names are
   * literals, which V8 compares by identity; the header's own strings would be
   * compared character by character on every lookup of every row.
   */
  private readonly asked = new Map<string, number>()

  /** The value in `column` of `values` (a whole row, or the part of a row read before a problem); null when blank or absent. */
  value(values: readonly string[], column: string): string | null {
    let at = this.asked.get(column)
    if (at === undefined) {
      at = this.index.get(column) ?? -1
      this.asked.set(column, at)
    }
    const value = at < 0 ? undefined : values[at]
    return value === undefined || value === '' ? null : value
  }

  /** Column names are input (`metadata.__proto__` is a name like any other): a null-prototype dict. */
  metadata(values: readonly string[]): Readonly<Record<string, string>> {
    // Most files have no metadata columns: every row then shares one empty dict.
    if (this.metadataColumns.length === 0) return NO_METADATA
    const out = dictOf<string>([])
    for (const { key, at } of this.metadataColumns) {
      const value = values[at]
      if (value !== undefined && value !== '') setOwn(out, key, value)
    }
    return out
  }

  row(values: readonly string[]): RowValues {
    return new Row(this, values)
  }
}

class Row implements RowValues {
  constructor(
    private readonly columns: Columns,
    private readonly values: readonly string[],
  ) {}

  text(column: string): string | null {
    return this.columns.value(this.values, column)
  }

  list(column: string): readonly string[] {
    return splitList(this.columns.value(this.values, column))
  }

  metadata(): Readonly<Record<string, string>> {
    return this.columns.metadata(this.values)
  }
}
