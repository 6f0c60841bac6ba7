/**
 * The caller's scope as SQL conditions. Pure. Every value is a query parameter
 * under a `scope_` name no filter uses, and the conditions are ANDed to the
 * filter's, so no filter text can widen what a caller sees.
 */
import { SynclogError } from '../errors.js'
import { SCOPE_SIDES, type Scope, type ScopeSide } from './types.js'

/** The operator's scope: every tenant. */
export const UNSCOPED: Scope = Object.freeze({})

/** Rows whose school on `side` is the parameter `{param}`. */
export function schoolCondition(side: ScopeSide, param: string): string {
  switch (side) {
    case 'home':
      return `homeSchoolId = {${param}:String}`
    case 'serving':
      return `servingSchoolId = {${param}:String}`
    case 'either':
      return `(homeSchoolId = {${param}:String} OR servingSchoolId = {${param}:String})`
  }
}

export function parseSide(value: string | undefined, option: string): ScopeSide {
  if (value === undefined) return 'either'
  if ((SCOPE_SIDES as readonly string[]).includes(value)) return value as ScopeSide
  throw new SynclogError('USAGE', `${option} must be one of ${SCOPE_SIDES.join(', ')} (got '${value}')`)
}

/** A scope is well formed: a school needs its tenant; ids are non-empty. */
export function checkScope(scope: Scope): Scope {
  if (scope.tenant !== undefined && scope.tenant === '') throw new SynclogError('USAGE', 'a scope tenant cannot be blank')
  if (scope.school !== undefined) {
    if (scope.tenant === undefined) throw new SynclogError('USAGE', 'a school scope needs its tenant')
    if (scope.school.id === '') throw new SynclogError('USAGE', 'a scope school cannot be blank')
    parseSide(scope.school.side, 'scope side')
  }
  return scope
}

/** Conditions on sync_log for the scope. */
export function logScope(scope: Scope, params: Record<string, unknown>): string[] {
  checkScope(scope)
  const where: string[] = []
  if (scope.tenant !== undefined) {
    params['scope_tenant'] = scope.tenant
    where.push('tenant = {scope_tenant:String}')
  }
  if (scope.school !== undefined) {
    params['scope_school'] = scope.school.id
    where.push(schoolCondition(scope.school.side, 'scope_school'))
  }
  return where
}

/** Conditions on sync_runs for the scope: a school sees its tenant's sync history. */
export function runsScope(scope: Scope, params: Record<string, unknown>): string[] {
  checkScope(scope)
  if (scope.tenant === undefined) return []
  params['scope_tenant'] = scope.tenant
  return ['tenant = {scope_tenant:String}']
}

/** Conditions on sync_counts / sync_outcomes for the scope: a school sees the records counted under it. */
export function countsScope(scope: Scope, params: Record<string, unknown>): string[] {
  const where = runsScope(scope, params)
  if (scope.school !== undefined) {
    params['scope_school'] = scope.school.id
    where.push('schoolId = {scope_school:String}')
  }
  return where
}
