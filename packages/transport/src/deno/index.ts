export * as DenoTransport from "./DenoTransport.ts"
