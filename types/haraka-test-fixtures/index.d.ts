declare module 'haraka-test-fixtures' {
  interface FixtureConnection {
    init_transaction(): void
    [key: string]: unknown
  }
  const fixtures: {
    connection: { createConnection(): FixtureConnection }
  }
  export default fixtures
}
