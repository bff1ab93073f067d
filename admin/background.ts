/**
 * Work a response must not wait for: the password-reset mail, so that how long the page takes
 * does not tell whether the address has a login. A failure is logged, never shown; the admin
 * waits for what is still running before it closes the mailer and the database.
 */
export class BackgroundTasks {
  private readonly running = new Set<Promise<void>>()

  constructor(private readonly log: (line: string) => void) {}

  run(name: string, task: () => Promise<void>): void {
    const done = Promise.resolve()
      .then(task)
      .catch((err: unknown) => {
        this.log(`admin background ${name} failed: ${(err as Error)?.stack ?? String(err)}`)
      })
      .finally(() => this.running.delete(done))
    this.running.add(done)
  }

  /** Resolves once every task started so far (and any they started) has ended. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running])
  }
}
