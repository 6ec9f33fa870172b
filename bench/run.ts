/**
 * `npm run bench [-- --only <name>[,<name>…]] [-- --quick]`
 *
 * Runs the benchmarks one after another in this process, prints each one's tables and writes its
 * numbers, with a description of the machine, to bench/results/<name>.json.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { churnSimulated } from './churn-simulated.js'
import { hopsSimulated } from './hops-simulated.js'
import { evenLoad } from './even-load.js'
import { failuresSimulated } from './failures-simulated.js'
import { idMint } from './id-mint.js'
import { lookupLatency } from './lookup-latency.js'
import { mailboxChurn } from './mailbox-churn.js'
import { mailboxDelivery } from './mailbox-delivery.js'
import { ownerCache } from './owner-cache.js'
import { capacity } from './capacity.js'
import { clientLookups } from './client-lookups.js'
import { maintenanceCost } from './maintenance-cost.js'
import { memory } from './memory.js'
import { putGet } from './put-get.js'
import { storeWrites } from './store-writes.js'
import { transportOverheads } from './transport-overheads.js'
import { groupFanout } from './group-fanout.js'
import { wideArea } from './wide-area.js'
import { wideAreaPaired } from './wide-area-paired.js'
import { describeMachine } from './harness/machine.js'
import { formatTable } from './harness/table.js'
import type { Benchmark } from './harness/benchmark.js'

const BENCHMARKS: Benchmark[] = [hopsSimulated, churnSimulated, failuresSimulated, lookupLatency, putGet, mailboxDelivery, mailboxChurn, groupFanout, clientLookups, wideArea, wideAreaPaired, memory, maintenanceCost, capacity, idMint, evenLoad, ownerCache, storeWrites, transportOverheads]

const RESULTS_DIR = new URL('./results/', import.meta.url)

const usage = `usage: npm run bench -- [--only <name>[,<name>...]] [--quick] [--sizes <n>[,<n>...]] [--samples <n>]
  --only <names>  run only these benchmarks: ${BENCHMARKS.map(b => b.name).join(', ')}
  --quick         a smoke run: small networks, few samples (a minute or two)
  --sizes <list>  network sizes, for wide-area (default 64,128), wide-area-paired (the first;
                  default 128) and maintenance-cost (default 32,128)
  --samples <n>   chord lookups timed per size, for wide-area (default 40; kad-dht lookups
                  a quarter of that, other operations half; the full setting is --samples 200),
                  and pairs of gets for wide-area-paired (default 30)
  --help          this text`

const { values } = parseArgs({
  options: {
    only: { type: 'string', multiple: true },
    quick: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    samples: { type: 'string' },
    help: { type: 'boolean', default: false }
  },
  strict: true
})

if (values.help) {
  console.log(usage)
  process.exit(0)
}

const wanted = new Set((values.only ?? []).flatMap(names => names.split(',')).map(name => name.trim()).filter(name => name !== ''))
const unknown = [...wanted].filter(name => !BENCHMARKS.some(b => b.name === name))
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')}\n${usage}`)
  process.exit(2)
}
const sizes = values.sizes?.split(',').map(Number)
const samples = values.samples == null ? undefined : Number(values.samples)
if (sizes?.some(n => !Number.isSafeInteger(n) || n < 2) === true || (samples != null && (!Number.isSafeInteger(samples) || samples < 1))) {
  console.error(`--sizes takes whole numbers of at least 2, --samples a positive whole number\n${usage}`)
  process.exit(2)
}
const selected = BENCHMARKS.filter(b => wanted.size === 0 || wanted.has(b.name))

await mkdir(RESULTS_DIR, { recursive: true })
let failed = 0
for (const benchmark of selected) {
  const started = performance.now()
  const machine = describeMachine()
  console.log(`\n== ${benchmark.name}: ${benchmark.description}${values.quick ? ' (quick)' : ''}\n`)
  try {
    const report = await benchmark.run({
      quick: values.quick,
      sizes,
      samples,
      progress: message => { console.error(`  [${benchmark.name}] ${message}`) }
    })
    const seconds = (performance.now() - started) / 1000
    for (const table of report.tables) {
      console.log(`${formatTable(table)}\n`)
    }
    console.log(`(${seconds.toFixed(0)} s)`)
    const file = new URL(`${benchmark.name}.json`, RESULTS_DIR)
    await writeFile(file, JSON.stringify({
      benchmark: benchmark.name,
      quick: values.quick,
      finishedAt: new Date().toISOString(),
      seconds,
      machine,
      results: report.results
    }, null, 2) + '\n')
  } catch (err) {
    failed++
    console.error(`${benchmark.name} failed:`, err)
  }
}
process.exit(failed === 0 ? 0 : 1)
