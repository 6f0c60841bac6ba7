/**
 * JSON objects keyed by identifiers (school ids, entity names, field names,
 * query parameter names). Any string may be a key, `__proto__`, `constructor`
 * and `toString` included: entries are own data properties of an object with no
 * prototype, so no key reads or replaces Object.prototype. Inside the program,
 * id-keyed data lives in Maps; a dict is only the shape it takes at a JSON
 * boundary (API responses, `--format json`, query parameters). The lint rule
 * `synclog/no-id-keyed-objects` keeps `obj[id]` off plain objects.
 */

/** A null-prototype object with these entries, in order (a later duplicate key wins). */
export function dictOf<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const out = Object.create(null) as Record<string, T>
  for (const [key, value] of entries) setOwn(out, key, value)
  return out
}

/** Sets `key` as an own, enumerable data property, whatever the key (never the `__proto__` setter). */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

/** The value of an own property, or undefined: a lookup by an input name never reads Object.prototype. */
export function ownValue<T>(source: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(source, key) ? source[key] : undefined
}
