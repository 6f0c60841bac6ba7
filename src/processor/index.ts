export { applyEvent, createProcessorState, findSync, DEFAULT_FOLD_OPTIONS } from './fold.js'
export type { FoldOptions, FoldResult, ProcessorState, TenantState, SyncInfo } from './fold.js'
export type { HoldThresholds } from './resolve-sync.js'
