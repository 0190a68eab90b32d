export * from "./Cli.ts"
