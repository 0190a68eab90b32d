import type { LaunchPreview, LaunchRecord } from "../../data/Launcher.ts"
import { moveCursor } from "./listCursor.ts"

export interface LaunchIssue {
  readonly line: number
  readonly column: number
  readonly field: string
  readonly message: string
}

/** The Launch screen: pick a file (or type a path), validate and preview it, confirm, started. */
export type LaunchPhase =
  | { readonly _tag: "Pick" }
  | { readonly _tag: "Validating"; readonly file: string }
  | { readonly _tag: "Invalid"; readonly file: string; readonly issues: ReadonlyArray<LaunchIssue>; readonly source: ReadonlyArray<string> }
  | { readonly _tag: "Preview"; readonly file: string; readonly preview: LaunchPreview }
  | { readonly _tag: "Starting"; readonly file: string }
  | { readonly _tag: "Started"; readonly record: LaunchRecord }
  | { readonly _tag: "Failed"; readonly file: string; readonly message: string }

export interface LaunchState {
  readonly files: ReadonlyArray<string>
  readonly cursor: number
  readonly editingPath: boolean
  readonly path: string
  readonly phase: LaunchPhase
}

export type LaunchAction =
  | { readonly _tag: "FilesLoaded"; readonly files: ReadonlyArray<string> }
  | { readonly _tag: "Move"; readonly delta: number }
  | { readonly _tag: "EditPath" }
  | { readonly _tag: "PathInput"; readonly text: string }
  | { readonly _tag: "PathBackspace" }
  | { readonly _tag: "Validate"; readonly file: string }
  | { readonly _tag: "Validated"; readonly file: string; readonly preview: LaunchPreview }
  | { readonly _tag: "Rejected"; readonly file: string; readonly issues: ReadonlyArray<LaunchIssue>; readonly source: ReadonlyArray<string> }
  | { readonly _tag: "Start"; readonly file: string }
  | { readonly _tag: "Started"; readonly record: LaunchRecord }
  | { readonly _tag: "Failed"; readonly file: string; readonly message: string }
  | { readonly _tag: "Reset" }

export const initialLaunch: LaunchState = { files: [], cursor: 0, editingPath: false, path: "", phase: { _tag: "Pick" } }

export const launchReducer = (state: LaunchState, action: LaunchAction): LaunchState => {
  switch (action._tag) {
    case "FilesLoaded":
      return { ...state, files: action.files, cursor: moveCursor(state.cursor, 0, action.files.length) }
    case "Move":
      return { ...state, cursor: moveCursor(state.cursor, action.delta, state.files.length) }
    case "EditPath":
      return { ...state, editingPath: true }
    case "PathInput":
      return { ...state, path: state.path + action.text }
    case "PathBackspace":
      return { ...state, path: state.path.slice(0, -1) }
    case "Validate":
      return { ...state, editingPath: false, phase: { _tag: "Validating", file: action.file } }
    case "Validated":
      return { ...state, phase: { _tag: "Preview", file: action.file, preview: action.preview } }
    case "Rejected":
      return { ...state, phase: { _tag: "Invalid", file: action.file, issues: action.issues, source: action.source } }
    case "Start":
      return state.phase._tag === "Preview" ? { ...state, phase: { _tag: "Starting", file: action.file } } : state
    case "Started":
      return { ...state, phase: { _tag: "Started", record: action.record } }
    case "Failed":
      return { ...state, phase: { _tag: "Failed", file: action.file, message: action.message } }
    case "Reset":
      return { ...state, editingPath: false, phase: { _tag: "Pick" } }
  }
}
