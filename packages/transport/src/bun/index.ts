export * as BunTransport from "./BunTransport.ts"
