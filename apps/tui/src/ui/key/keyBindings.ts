import type { Key } from "ink"

/** Every action the keyboard can trigger, as dotted ids (gemini-cli's `Command` enum). */
export enum Command {
  Quit = "app.quit",
  Help = "app.help",
  Launch = "app.launch",
  Studies = "app.studies",
  NextTab = "app.nextTab",
  Back = "nav.back",
  Up = "nav.up",
  Down = "nav.down",
  PageUp = "nav.pageUp",
  PageDown = "nav.pageDown",
  Open = "nav.open",
  Filter = "list.filter",
  Sort = "list.sort",
  Reverse = "list.reverse",
  SortByColumn = "list.sortByColumn",
  Select = "list.select",
  Compare = "sweep.compare",
  CancelSweep = "sweep.cancel",
  Baseline = "compare.baseline",
  ColumnsLeft = "compare.columnsLeft",
  ColumnsRight = "compare.columnsRight",
  ExportCsv = "compare.exportCsv",
  ExportLatex = "compare.exportLatex",
  Report = "compare.report",
  EditPath = "launch.editPath",
  Confirm = "launch.confirm"
}

type KeyName = Exclude<{ [K in keyof Key]-?: Key[K] extends boolean | undefined ? K : never }[keyof Key], undefined>

/** One way to press a command: a printable character, or a named key (optionally with ctrl). */
export type KeySpec = { readonly input: string; readonly ctrl?: boolean } | { readonly key: KeyName; readonly ctrl?: boolean }

/** The default bindings; the help overlay is generated from this table. */
export const keyBindings: Readonly<Record<Command, ReadonlyArray<KeySpec>>> = {
  [Command.Quit]: [{ input: "q" }, { input: "c", ctrl: true }],
  [Command.Help]: [{ input: "?" }],
  [Command.Launch]: [{ input: "n" }],
  [Command.Studies]: [{ input: "H" }],
  [Command.NextTab]: [{ key: "tab" }],
  [Command.Back]: [{ key: "escape" }, { key: "leftArrow" }, { input: "h" }],
  [Command.Up]: [{ key: "upArrow" }, { input: "k" }],
  [Command.Down]: [{ key: "downArrow" }, { input: "j" }],
  [Command.PageUp]: [{ key: "pageUp" }],
  [Command.PageDown]: [{ key: "pageDown" }],
  [Command.Open]: [{ key: "return" }, { key: "rightArrow" }, { input: "l" }],
  [Command.Filter]: [{ input: "/" }],
  [Command.Sort]: [{ input: "s" }],
  [Command.Reverse]: [{ input: "S" }],
  [Command.SortByColumn]: ["1", "2", "3", "4", "5", "6", "7", "8", "9"].map((input) => ({ input })),
  [Command.Select]: [{ input: " " }],
  [Command.Compare]: [{ input: "c" }],
  [Command.CancelSweep]: [{ input: "x" }],
  [Command.Baseline]: [{ input: "b" }],
  [Command.ColumnsLeft]: [{ input: "[" }],
  [Command.ColumnsRight]: [{ input: "]" }],
  [Command.ExportCsv]: [{ input: "e" }],
  [Command.ExportLatex]: [{ input: "L" }],
  [Command.Report]: [{ input: "R" }],
  [Command.EditPath]: [{ input: "p" }],
  [Command.Confirm]: [{ input: "y" }]
}

/** What each command does, for the `?` overlay. */
export const commandHelp: Readonly<Record<Command, string>> = {
  [Command.Quit]: "quit (sweeps keep running)",
  [Command.Help]: "toggle this help",
  [Command.Launch]: "launch a sweep",
  [Command.Studies]: "human-evaluation studies and their progress",
  [Command.NextTab]: "Experiments / Launch tab",
  [Command.Back]: "back / close",
  [Command.Up]: "move up",
  [Command.Down]: "move down",
  [Command.PageUp]: "page up",
  [Command.PageDown]: "page down",
  [Command.Open]: "open selected item",
  [Command.Filter]: "filter rows (esc clears)",
  [Command.Sort]: "sort by the next column",
  [Command.Reverse]: "reverse sort order",
  [Command.SortByColumn]: "sort by the column numbered so in the header (again: reverse)",
  [Command.Select]: "choose run for compare",
  [Command.Compare]: "compare chosen/all runs",
  [Command.CancelSweep]: "cancel sweep (SIGINT)",
  [Command.Baseline]: "set baseline row",
  [Command.ColumnsLeft]: "earlier metric columns (sweep, compare)",
  [Command.ColumnsRight]: "later metric columns (sweep, compare)",
  [Command.ExportCsv]: "export CSV",
  [Command.ExportLatex]: "export LaTeX",
  [Command.Report]: "write the report (HTML, figures, tables) to reports/<experiment>/",
  [Command.EditPath]: "type a YAML path",
  [Command.Confirm]: "start the runner"
}

const pressed = (spec: KeySpec, input: string, key: Key): boolean => {
  if ((spec.ctrl ?? false) !== key.ctrl) return false
  return "input" in spec ? input === spec.input : key[spec.key] === true
}

const controlKeys: Readonly<Record<string, KeyName>> = { "\r": "return", "\n": "return", "\t": "tab", "\u007f": "backspace", "\b": "backspace" }

/**
 * Splits what Ink delivers as one `input` when keys arrive in the same read (fast typing, pastes, tmux
 * send-keys) into single presses, turning enter, tab and backspace back into named keys; escape
 * sequences and ctrl/meta chords stay whole.
 */
export const splitKeys = (input: string, key: Key): ReadonlyArray<readonly [string, Key]> => {
  if (input.length <= 1 || key.ctrl || key.meta || input.includes("\u001b")) return [[input, key]]
  return [...input].map((ch) => {
    const named = controlKeys[ch]
    return named === undefined ? [ch, key] as const : ["", { ...key, [named]: true }] as const
  })
}

/** True when `input`/`key` (from Ink's `useInput`) is one of the bindings of `command`. */
export const matches = (command: Command, input: string, key: Key, bindings: Readonly<Record<Command, ReadonlyArray<KeySpec>>> = keyBindings): boolean =>
  bindings[command].some((spec) => pressed(spec, input, key))

/** `q`, `ctrl+c`, `↑`… for the help overlay and the footer. */
export const describeKeys = (command: Command, bindings: Readonly<Record<Command, ReadonlyArray<KeySpec>>> = keyBindings): string =>
  bindings[command].map((spec) => {
    const name = "input" in spec
      ? spec.input === " " ? "space" : spec.input
      : ({ upArrow: "↑", downArrow: "↓", leftArrow: "←", rightArrow: "→", return: "enter", escape: "esc", tab: "tab", pageUp: "pgup", pageDown: "pgdn" } as Record<string, string>)[spec.key] ?? spec.key
    return spec.ctrl === true ? `ctrl+${name}` : name
  }).join("/")
