import { sharedData } from "@empo/core/testing/sharedData"
import { metricContract } from "@empo/metrics/testing/metricContract"
import { plugin } from "../src/index.ts"

metricContract(plugin, {
  params: {
    vadLexicon: sharedData("lexicons", "NRC-VAD-Lexicon.txt"),
    intensityLexicon: sharedData("lexicons", "NRC-Emotion-Intensity.txt")
  },
  badParams: { vadLexicon: 3 }
})
