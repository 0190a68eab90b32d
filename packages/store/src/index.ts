export * from "./Records.ts"
export * from "./RunStore.ts"
export * from "./StoreError.ts"
