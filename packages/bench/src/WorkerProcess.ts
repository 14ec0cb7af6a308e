/** The coordinator's handle on one worker process: send a job, await its measurement. */
import { type ChildProcess, spawn } from "node:child_process"
import * as Readline from "node:readline"
import type { DriverName, Job, Measurement, WorkerReply } from "./Workload.ts"

/** A worker to start: its label in the table, the driver it runs, its argv. */
export interface WorkerCommand {
  readonly label: string
  readonly driver: DriverName
  readonly command: ReadonlyArray<string>
}

export class Worker {
  readonly label: string
  private readonly child: ChildProcess
  private readonly waiting: Array<(reply: WorkerReply) => void> = []
  private readonly stderr: Array<string> = []
  readonly ready: Promise<void>

  constructor(label: string, command: ReadonlyArray<string>) {
    this.label = label
    this.child = spawn(command[0]!, command.slice(1), { stdio: ["pipe", "pipe", "pipe"] })
    this.child.stderr!.setEncoding("utf8")
    this.child.stderr!.on("data", (text: string) => {
      this.stderr.push(text)
      if (this.stderr.length > 20) this.stderr.shift()
    })
    const lines = Readline.createInterface({ input: this.child.stdout! })
    lines.on("line", (line) => {
      if (!line.startsWith("{")) return
      this.waiting.shift()?.(JSON.parse(line) as WorkerReply)
    })
    this.child.on("exit", (code) => {
      for (const resume of this.waiting.splice(0)) {
        resume({ error: `${label} exited with code ${code}: ${this.stderr.join("")}` })
      }
    })
    this.ready = this.reply().then((reply) => {
      if ("error" in reply) throw new Error(reply.error)
    })
  }

  private reply(): Promise<WorkerReply> {
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  async run(job: Job): Promise<Measurement> {
    const reply = this.reply()
    this.child.stdin!.write(`${JSON.stringify(job)}\n`)
    const answer = await reply
    if ("ok" in answer) return answer.ok
    throw new Error(`${this.label}, ${job.workload}: ${"error" in answer ? answer.error : "no answer"}`)
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve()
      this.child.once("exit", () => resolve())
      this.child.stdin!.end()
    })
  }
}
