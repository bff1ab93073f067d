import { hashPassword } from '../../lib/auth/password'
import { createAdmin, grantAccount } from '../../lib/db/admins'
import type { Db } from '../../lib/db/connection'

export interface SeededAdmin {
  id: number
  email: string
  password: string
  name: string
}

/** The account admin who logs in through the browser; administers every account given. */
export async function seedAdmin(db: Db, accountIds: number[]): Promise<SeededAdmin> {
  const password = 'correct horse battery staple'
  const admin = await createAdmin(db, {
    email: 'claire.admin@example.test',
    name: 'Claire Admin',
    passwordHash: await hashPassword(password),
  })
  for (const accountId of accountIds) await grantAccount(db, admin.id, accountId)
  return { id: admin.id, email: admin.email, password, name: admin.name }
}
