import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Layer from "effect/Layer"

// The CLI's composition root: every service a command needs is provided here and nowhere else.
export const MainLayer = Layer.mergeAll(NodeContext.layer)
