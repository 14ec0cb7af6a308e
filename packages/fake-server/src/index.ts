export * as FakeServer from "./FakeServer.ts"
export * as Mutation from "./Mutation.ts"
export * as ReplayServer from "./ReplayServer.ts"
export * as Transcript from "./Transcript.ts"
