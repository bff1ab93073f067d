/**
 * Loaded into Haraka's process with `node -r` (Haraka has no hook that early): makes the MX
 * stop with the supervisor that started it, as on Ctrl-C (SIGINT is what Haraka listens to).
 */
import { watchParent } from './parent-watch'

watchParent({ signal: 'SIGINT' })
