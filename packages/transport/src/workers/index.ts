export * as WorkersTransport from "./WorkersTransport.ts"
