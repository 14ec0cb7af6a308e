/**
 * The few parts of the `Deno` namespace this layer uses, typed here so that the package needs
 * neither Deno's type declarations nor a global that Node programs do not have.
 */
export interface DenoNetAddr {
  readonly transport: string
  readonly hostname?: string
  readonly port?: number
  readonly path?: string | null
}

export interface DenoConn {
  readonly localAddr: DenoNetAddr
  readonly remoteAddr: DenoNetAddr
  read(buffer: Uint8Array): Promise<number | null>
  write(bytes: Uint8Array): Promise<number>
  closeWrite(): Promise<void>
  close(): void
  setNoDelay?(noDelay?: boolean): void
  setKeepAlive?(keepAlive?: boolean): void
}

export interface DenoTlsConn extends DenoConn {
  handshake(): Promise<{ readonly alpnProtocol: string | null }>
}

export interface DenoNamespace {
  connect(
    options:
      | { readonly transport: "tcp"; readonly hostname: string; readonly port: number }
      | { readonly transport: "unix"; readonly path: string }
  ): Promise<DenoConn>
  startTls(
    conn: DenoConn,
    options: {
      readonly hostname: string
      readonly caCerts?: Array<string>
      readonly unsafelyDisableHostnameVerification?: boolean
    }
  ): Promise<DenoTlsConn>
}

export const deno = (): DenoNamespace => (globalThis as unknown as { readonly Deno: DenoNamespace }).Deno
