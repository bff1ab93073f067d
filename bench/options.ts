/**
 * Command-line options of the benches: whole positive numbers (`--rounds 3`) and switches
 * (`--profile`). `--help` prints the usage and exits.
 */
export function parseBenchOptions(
  argv: string[],
  usage: string,
  numbers: Record<string, (value: number) => void>,
  switches: Record<string, () => void>,
): void {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage)
    process.exit(0)
  }
  for (let i = 0; i < argv.length; i++) {
    if (switches[argv[i]]) {
      switches[argv[i]]()
      continue
    }
    const value = Number(argv[i + 1])
    if (!numbers[argv[i]] || !Number.isInteger(value) || value <= 0) {
      throw new Error(`bad option: ${argv.slice(i, i + 2).join(' ')}\n${usage}`)
    }
    numbers[argv[i]](value)
    i++
  }
}
