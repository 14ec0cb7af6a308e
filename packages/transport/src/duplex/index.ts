export * as DuplexConnection from "./DuplexConnection.ts"
