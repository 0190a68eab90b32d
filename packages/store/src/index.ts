export * from "./Records.ts"
export * from "./RunIdentity.ts"
export * from "./RunStore.ts"
export * from "./StoreError.ts"
