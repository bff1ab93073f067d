/**
 * SMPP command_status values (SMPP 3.4 §5.1.3, plus the 5.0 additions some SMSCs already send)
 * and what a non-zero status in a submit_sm_resp means for the message.
 *
 * - throttled: the SMSC is fine but we go too fast; the same PDU will pass later.
 * - permanent: the PDU itself is wrong for this SMSC (address, coding, length, flags, TLVs,
 *   barred service); resending the same bytes gets the same answer, so the SMS fails.
 * - temporary: the SMSC or the session had a problem (system error, generic submit failure,
 *   an application error it calls temporary). Also every code we do not know, and the ones that
 *   make no sense in a submit_sm_resp (bind and cancel/query failures): retrying with backoff
 *   until the message expires can waste a few attempts but never loses an SMS.
 */

export type SubmitStatusClass = 'ok' | 'throttled' | 'temporary' | 'permanent'

type Row = readonly [code: number, name: string, kind: SubmitStatusClass]

const TABLE: readonly Row[] = [
  [0x0000, 'ESME_ROK', 'ok'],
  [0x0001, 'ESME_RINVMSGLEN', 'permanent'],
  [0x0002, 'ESME_RINVCMDLEN', 'permanent'],
  [0x0003, 'ESME_RINVCMDID', 'permanent'],
  // The SMSC thinks the session is not bound: a new session can succeed.
  [0x0004, 'ESME_RINVBNDSTS', 'temporary'],
  [0x0005, 'ESME_RALYBND', 'temporary'],
  [0x0006, 'ESME_RINVPRTFLG', 'permanent'],
  [0x0007, 'ESME_RINVREGDLVFLG', 'permanent'],
  [0x0008, 'ESME_RSYSERR', 'temporary'],
  [0x000a, 'ESME_RINVSRCADR', 'permanent'],
  [0x000b, 'ESME_RINVDSTADR', 'permanent'],
  [0x000c, 'ESME_RINVMSGID', 'temporary'],
  // Bind failures belong to bind_*_resp; in a submit_sm_resp they say nothing about the message.
  [0x000d, 'ESME_RBINDFAIL', 'temporary'],
  [0x000e, 'ESME_RINVPASWD', 'temporary'],
  [0x000f, 'ESME_RINVSYSID', 'temporary'],
  [0x0011, 'ESME_RCANCELFAIL', 'temporary'],
  [0x0013, 'ESME_RREPLACEFAIL', 'temporary'],
  [0x0014, 'ESME_RMSGQFUL', 'throttled'],
  [0x0015, 'ESME_RINVSERTYP', 'permanent'],
  [0x0033, 'ESME_RINVNUMDESTS', 'permanent'],
  [0x0034, 'ESME_RINVDLNAME', 'permanent'],
  [0x0040, 'ESME_RINVDESTFLAG', 'permanent'],
  [0x0042, 'ESME_RINVSUBREP', 'permanent'],
  [0x0043, 'ESME_RINVESMCLASS', 'permanent'],
  [0x0044, 'ESME_RCNTSUBDL', 'permanent'],
  // The catch-all many SMSCs use for routing or credit trouble that clears up by itself.
  [0x0045, 'ESME_RSUBMITFAIL', 'temporary'],
  [0x0048, 'ESME_RINVSRCTON', 'permanent'],
  [0x0049, 'ESME_RINVSRCNPI', 'permanent'],
  [0x0050, 'ESME_RINVDSTTON', 'permanent'],
  [0x0051, 'ESME_RINVDSTNPI', 'permanent'],
  [0x0053, 'ESME_RINVSYSTYP', 'permanent'],
  [0x0054, 'ESME_RINVREPFLAG', 'permanent'],
  [0x0055, 'ESME_RINVNUMMSGS', 'permanent'],
  [0x0058, 'ESME_RTHROTTLED', 'throttled'],
  [0x0061, 'ESME_RINVSCHED', 'permanent'],
  [0x0062, 'ESME_RINVEXPIRY', 'permanent'],
  [0x0063, 'ESME_RINVDFTMSGID', 'permanent'],
  [0x0064, 'ESME_RX_T_APPN', 'temporary'],
  [0x0065, 'ESME_RX_P_APPN', 'permanent'],
  [0x0066, 'ESME_RX_R_APPN', 'permanent'],
  [0x0067, 'ESME_RQUERYFAIL', 'temporary'],
  [0x00c0, 'ESME_RINVTLVSTREAM', 'permanent'],
  [0x00c1, 'ESME_RTLVNOTALLWD', 'permanent'],
  [0x00c2, 'ESME_RINVTLVLEN', 'permanent'],
  [0x00c3, 'ESME_RMISSINGTLV', 'permanent'],
  [0x00c4, 'ESME_RINVTLVVAL', 'permanent'],
  [0x00fe, 'ESME_RDELIVERYFAILURE', 'temporary'],
  [0x00ff, 'ESME_RUNKNOWNERR', 'temporary'],
  [0x0100, 'ESME_RSERTYPUNAUTH', 'permanent'],
  [0x0101, 'ESME_RPROHIBITED', 'permanent'],
  // "Unavailable" (unlike "denied") is the SMSC's own state, which can change.
  [0x0102, 'ESME_RSERTYPUNAVAIL', 'temporary'],
  [0x0103, 'ESME_RSERTYPDENIED', 'permanent'],
  [0x0104, 'ESME_RINVDCS', 'permanent'],
  [0x0105, 'ESME_RINVSRCADDRSUBUNIT', 'permanent'],
  [0x0106, 'ESME_RINVDSTADDRSUBUNIT', 'permanent'],
  // broadcast_sm only (SMPP 5.0): named for the logs, meaningless for a submit.
  [0x0107, 'ESME_RINVBCASTFREQINT', 'temporary'],
  [0x0108, 'ESME_RINVBCASTALIAS_NAME', 'temporary'],
  [0x0109, 'ESME_RINVBCASTAREAFMT', 'temporary'],
  [0x010a, 'ESME_RINVNUMBCAST_AREAS', 'temporary'],
  [0x010b, 'ESME_RINVBCASTCNTTYPE', 'temporary'],
  [0x010c, 'ESME_RINVBCASTMSGCLASS', 'temporary'],
  [0x010d, 'ESME_RBCASTFAIL', 'temporary'],
  [0x010e, 'ESME_RBCASTQUERYFAIL', 'temporary'],
  [0x010f, 'ESME_RBCASTCANCELFAIL', 'temporary'],
  [0x0110, 'ESME_RINVBCAST_REP', 'temporary'],
  [0x0111, 'ESME_RINVBCASTSRVGRP', 'temporary'],
  [0x0112, 'ESME_RINVBCASTCHANIND', 'temporary'],
]

const BY_CODE = new Map<number, Row>(TABLE.map((row) => [row[0], row]))

/** What a submit_sm_resp command_status means for the message; unknown codes are temporary. */
export function classifySubmitStatus(status: number): SubmitStatusClass {
  return BY_CODE.get(status)?.[2] ?? 'temporary'
}

/** `ESME_RTHROTTLED` for 0x58; `0x00000400` for a code without a standard name. */
export function statusName(status: number): string {
  return BY_CODE.get(status)?.[1] ?? hexStatus(status)
}

/** For log lines: `ESME_RTHROTTLED (0x00000058)`. */
export function describeStatus(status: number): string {
  const name = BY_CODE.get(status)?.[1]
  return name === undefined ? hexStatus(status) : `${name} (${hexStatus(status)})`
}

function hexStatus(status: number): string {
  return `0x${(status >>> 0).toString(16).padStart(8, '0')}`
}
