/**
 * Conditions for packet layouts: "this field is present when that capability is set".
 *
 * Pure code, no IO.
 *
 * @internal
 */
import type { CapabilitySet } from "../Capabilities.ts"

/** The negotiated capability `flag` is set. */
export const capability =
  (flag: number) =>
  (_value: unknown, caps: CapabilitySet): boolean =>
    (caps.capabilities & flag) !== 0

/** The negotiated MariaDB extended capability `flag` is set. */
export const mariaDbCapability =
  (flag: number) =>
  (_value: unknown, caps: CapabilitySet): boolean =>
    (caps.mariadbCapabilities & flag) !== 0

/** The packet's own `capabilities` field has `flag` (greeting, handshake response, SSL Request). */
export const ownFlag =
  (flag: number) =>
  (value: { readonly capabilities?: number | undefined }): boolean =>
    ((value.capabilities ?? 0) & flag) !== 0

/** The packet's own `capabilities` field lacks `flag`. */
export const ownFlagClear =
  (flag: number) =>
  (value: { readonly capabilities?: number | undefined }): boolean =>
    ((value.capabilities ?? 0) & flag) === 0
