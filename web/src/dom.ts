/** A few DOM helpers: elements from data, numbers and instants as the page shows them. */

import { shownTime, zoneOf } from './local-times.js'

type Child = Node | string | number | null | undefined | false
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>

/** `h('a', { href: '#/log' }, 'Sync log')`: attributes (on* are listeners), then children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value)
    else if (value === true) el.setAttribute(name, '')
    else el.setAttribute(name, String(value))
  }
  append(el, ...children)
  return el
}

export function append(parent: Node, ...children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child)
  }
}

/** Replaces the children of an element. */
export function fill(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren()
  append(parent, ...children)
}

const numberFormat = new Intl.NumberFormat('en-US')

/** 12345 → "12,345". */
export function count(n: number): string {
  return numberFormat.format(n)
}

/** A `<time>` element for an instant of `tenant`: its local time (local-times.ts), the zone and the instant in the tooltip. */
export function timeEl(iso: string, tenant: string, empty = ''): HTMLElement {
  return iso === '' ? h('span', {}, empty) : h('time', { datetime: iso, title: `${zoneOf(tenant)} · ${iso}` }, shownTime(iso, tenant))
}

/** Runs `fn` once the calls stop for `ms`. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
  let timer: number | undefined
  return (...args: A) => {
    window.clearTimeout(timer)
    timer = window.setTimeout(() => fn(...args), ms)
  }
}

/** A message in an alert box, for errors the reader must see. */
export function alertBox(message: string): HTMLElement {
  return h('p', { role: 'alert', class: 'alert' }, message)
}
