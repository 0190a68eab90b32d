export * from "./Protocol.ts"
export * from "./PythonInterpreter.ts"
export * from "./PythonWorker.ts"
export * from "./TrainingBackendLive.ts"
