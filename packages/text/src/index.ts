export * from "./Punkt.ts"
export * from "./PunktParameters.ts"
export * from "./TreebankWordTokenizer.ts"
export * from "./wordTokenize.ts"
