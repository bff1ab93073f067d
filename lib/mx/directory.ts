import type { Db } from '../db/connection'
import { toAccount, type Account } from '../db/accounts'
import { loadOptOutsByAccount, type OptOut } from '../db/opt-outs'
import { readCacheVersion } from '../db/versions'
import { IpAllowlist } from '../net/allowlist'

export interface Membership {
  senderId: number
  email: string
  status: 'pending' | 'accepted'
  isDefault: boolean
  account: Account
}

/**
 * What the MX needs to decide, held in memory: accounts, their senders and allowlists, and the
 * numbers that texted STOP to each account (few per account, and a RCPT must not wait on a
 * query for them).
 */
export interface Directory {
  version: number
  accountsByRef: Map<string, Account>
  membershipsByEmail: Map<string, Membership[]>
  allowlist: IpAllowlist
  /** Account id → E.164 number → its opt-out. */
  optOuts: Map<number, Map<string, OptOut>>
}

export async function loadDirectory(db: Db): Promise<Directory> {
  // Read the version first: a change landing during the load bumps it again, so the next
  // check reloads rather than keeping a snapshot that missed it.
  const version = await readCacheVersion(db, 'directory')
  const [accountRows, senderRows, ipRows, optOuts] = await Promise.all([
    db('accounts').where({ is_active: true }),
    db('account_senders').select('id', 'account_id', 'email', 'status', 'is_default').orderBy('id'),
    db('account_ip_allowlist').select('account_id', 'cidr'),
    loadOptOutsByAccount(db),
  ])
  const accountsById = new Map<number, Account>()
  const accountsByRef = new Map<string, Account>()
  for (const row of accountRows) {
    const account = toAccount(row)
    accountsById.set(account.id, account)
    accountsByRef.set(account.ref, account)
  }
  const membershipsByEmail = new Map<string, Membership[]>()
  for (const row of senderRows) {
    const account = accountsById.get(Number(row.account_id))
    if (!account) continue
    const list = membershipsByEmail.get(row.email) ?? []
    list.push({
      senderId: Number(row.id),
      email: row.email,
      status: row.status,
      isDefault: Boolean(row.is_default),
      account,
    })
    membershipsByEmail.set(row.email, list)
  }
  const allowlist = new IpAllowlist(
    ipRows
      .filter((r) => accountsById.has(Number(r.account_id)))
      .map((r) => ({ accountId: Number(r.account_id), cidr: String(r.cidr) })),
  )
  return { version, accountsByRef, membershipsByEmail, allowlist, optOuts }
}

/**
 * Serves the directory from memory and reloads it when the version counter in the database
 * moves, checking that counter at most once per `refreshMs`. Concurrent callers share a check.
 */
export class DirectoryCache {
  private current: Directory | null = null
  private checkedAt = 0
  private pending: Promise<Directory> | null = null

  constructor(
    private readonly db: Db,
    private readonly refreshMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(): Promise<Directory> {
    if (this.current && this.clock() - this.checkedAt < this.refreshMs) return this.current
    this.pending ??= this.refresh().finally(() => {
      this.pending = null
    })
    return this.pending
  }

  /** The snapshot in hand, without waiting or refreshing. */
  snapshot(): Directory | null {
    return this.current
  }

  /** The snapshot in hand, without waiting; starts a refresh in the background when due. */
  peek(): Directory | null {
    this.get().catch(() => {
      // The next caller that waits sees the error.
    })
    return this.current
  }

  private async refresh(): Promise<Directory> {
    const version = await readCacheVersion(this.db, 'directory')
    if (!this.current || this.current.version !== version)
      this.current = await loadDirectory(this.db)
    this.checkedAt = this.clock()
    return this.current
  }
}
