/**
 * OneRoster 1.2 moves a user's role and orgs out of users.csv into roles.csv
 * (one row per user and org). roles.csv is read first into this map; each user
 * row then takes its 1.1-style `role` and `orgSourcedIds` from it.
 */

export interface RoleAssignment {
  /** `primary` | `secondary` as sent. */
  readonly roleType: string | null
  /** 1.2 role as sent, e.g. `siteAdministrator`. */
  readonly role: string | null
  readonly orgSourcedId: string | null
}

/** 1.2 roles that have no 1.1 equivalent of the same name. */
const ADMINISTRATOR_ROLES: ReadonlySet<string> = new Set([
  'principal',
  'siteAdministrator',
  'districtAdministrator',
  'systemAdministrator',
  'counselor',
])

/**
 * The 1.1 user role for a 1.2 role: the school and district leadership roles and
 * counselors become `administrator`; the others (`teacher`, `student`, `aide`,
 * `parent`, `guardian`, `relative`, `proctor`) keep their name, and so do
 * `ext:` and unknown values, which the fold judges.
 */
export function userRoleOf(role: string): string {
  return ADMINISTRATOR_ROLES.has(role) ? 'administrator' : role
}

/**
 * A string that does not share memory with the line it was cut from: V8 slices
 * keep their whole parent alive, which for a million held ids is a million lines.
 */
function detach(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8')
}

export class UserRoles {
  private readonly byUser = new Map<string, RoleAssignment[]>()
  /** Role names and org ids repeat a lot: one copy of each. */
  private readonly interned = new Map<string, string>()

  private intern(s: string | null): string | null {
    if (s === null) return null
    let kept = this.interned.get(s)
    if (kept === undefined) {
      kept = detach(s)
      this.interned.set(kept, kept)
    }
    return kept
  }

  get users(): number {
    return this.byUser.size
  }

  add(userSourcedId: string, a: RoleAssignment): void {
    const kept: RoleAssignment = { roleType: this.intern(a.roleType), role: this.intern(a.role), orgSourcedId: this.intern(a.orgSourcedId) }
    const list = this.byUser.get(userSourcedId)
    if (list) list.push(kept)
    else this.byUser.set(detach(userSourcedId), [kept])
  }

  /**
   * Role and orgs of a user, or null when roles.csv has no row for it. The role is
   * the primary role's (the one at `primaryOrgSourcedId` when given; without any
   * primary row, the first row's). Orgs: `primaryOrgSourcedId`, the primary role's
   * org, then the other roles' orgs in file order, without repeats.
   */
  resolve(
    userSourcedId: string,
    primaryOrgSourcedId: string | null,
  ): { readonly role: string | null; readonly orgSourcedIds: readonly string[] } | null {
    const rows = this.byUser.get(userSourcedId)
    const first = rows?.[0]
    if (!rows || !first) return null
    const primaries = rows.filter((r) => r.roleType === 'primary')
    const chosen = primaries.find((r) => primaryOrgSourcedId !== null && r.orgSourcedId === primaryOrgSourcedId) ?? primaries[0] ?? first
    const orgs = new Set<string>()
    for (const org of [primaryOrgSourcedId, chosen.orgSourcedId, ...rows.map((r) => r.orgSourcedId)]) {
      if (org !== null) orgs.add(org)
    }
    return { role: chosen.role === null ? null : userRoleOf(chosen.role), orgSourcedIds: [...orgs] }
  }
}
