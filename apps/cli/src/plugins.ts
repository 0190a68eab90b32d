import type { MetricPlugin } from "@empo/core"
import { plugin as distinct } from "@empo/metric-distinct"
import { plugin as diversity } from "@empo/metric-diversity"
import { plugin as epitomeSaved } from "@empo/metric-epitome-saved"
import { plugin as length } from "@empo/metric-length"
import { plugin as specificity } from "@empo/metric-specificity"
import { plugin as vad } from "@empo/metric-vad"

// The app's built-in plugins, listed explicitly (no scanning, no dynamic import). A new metric plugin is
// one folder under plugins/ plus one entry here.
export const metricPlugins: ReadonlyArray<MetricPlugin> = [vad, specificity, diversity, distinct, length, epitomeSaved]
