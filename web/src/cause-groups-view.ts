/**
 * A sync's root causes, in its details: one expandable line per cause
 * ("class 'CHEM-02' deleted: 35 enrollments") that opens to the rows it caused
 * (the first page; the whole list is a link to the sync log filtered by the cause).
 */
import type { CauseGroup } from '../../src/clickhouse/cause-groups.js'
import { causeLine } from '../../src/export/cause-line.js'
import { api, queryString, type SyncRun } from './api.js'
import { alertBox, count, h } from './dom.js'
import { hrefOf } from './hash-route.js'

/** Rows shown under an opened cause; the rest are in the log. */
const FIRST_ROWS = 50

/** The causes of sync `s`, loaded as the section is shown; nothing when no row has a cause. */
export function causeGroupsSection(s: SyncRun): HTMLElement {
  const section = h('section', { class: 'cause-groups', 'aria-label': `Root causes of sync ${s.syncId}` })
  section.append(h('p', { role: 'status' }, 'Loading the root causes…'))
  api.causes(s.syncId).then(
    (found) => {
      if (found.groups.length === 0) return section.replaceChildren()
      section.replaceChildren(
        h('h3', {}, 'Root causes'),
        h('p', { class: 'hint' }, 'Rows caused by another record’s error or absence, grouped under that record. Open one to see its rows.'),
        ...found.groups.map((g) => causeDetails(s, g)),
      )
    },
    (e: unknown) => section.replaceChildren(alertBox((e as Error).message)),
  )
  return section
}

function causeDetails(s: SyncRun, g: CauseGroup): HTMLElement {
  const params = { sync: s.syncId, tenant: s.tenant, cause: g.cause, includeProposed: 'true', includeRejected: 'true' }
  const body = h('div', { class: 'cause-rows' })
  const details = h('details', { class: 'cause' }, h('summary', {}, causeLine(g)), body)
  details.addEventListener('toggle', () => {
    if (!details.open || body.childElementCount > 0) return
    body.append(h('p', { role: 'status' }, 'Loading rows…'))
    api.log(queryString({ ...params, limit: String(FIRST_ROWS) })).then(
      (page) => {
        const more = g.rows > page.rows.length ? ` (the first ${count(page.rows.length)} of ${count(g.rows)})` : ''
        body.replaceChildren(
          h(
            'table',
            {},
            h('caption', {}, `Rows caused by ${g.cause}${more}`),
            h('thead', {}, h('tr', {}, ...['Action', 'Record', 'Student', 'Section', 'Message'].map((c) => h('th', { scope: 'col' }, c)))),
            h(
              'tbody',
              {},
              ...page.rows.map((r) =>
                h(
                  'tr',
                  {},
                  h('td', {}, r.action),
                  h('td', {}, `${r.entity} ${r.sourcedId}`),
                  h('td', {}, r.studentName === '' ? r.studentNumber : `${r.studentName} (${r.studentNumber})`),
                  h('td', {}, r.sectionNumber),
                  h('td', {}, r.message),
                ),
              ),
            ),
          ),
          h('p', {}, h('a', { href: hrefOf('log', params) }, `All ${count(g.rows)} rows in the sync log`)),
        )
      },
      (e: unknown) => body.replaceChildren(alertBox((e as Error).message)),
    )
  })
  return details
}
